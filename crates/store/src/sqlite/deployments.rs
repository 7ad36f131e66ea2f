//! [`DeploymentRepo`] on SQLite: every multi-row change runs in one IMMEDIATE transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_sqlite::rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::{SqlResultExt, SqliteStore, ms, opt_time_at, time_at};
use crate::deployments::{
    Created, Deployment, DeploymentEvent, DeploymentRepo, DeploymentVersion, DesiredState,
    NewDeployment, NewDeploymentEvent, Observation,
};
use crate::{Result, StoreError, conflict, now_millis};

const COLUMNS: &str = "id, team_id, name, model_id, target, task, spec, current_version, \
    desired, generation, observed_generation, observed_version, status, status_message, \
    target_state, endpoint_url, attempts, next_attempt_at, lease_holder, lease_until, \
    idempotency_key, request_hash, created_by, created_at, updated_at";

fn json_at(row: &Row<'_>, index: usize) -> deadpool_sqlite::rusqlite::Result<serde_json::Value> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|e| {
        deadpool_sqlite::rusqlite::Error::FromSqlConversionFailure(
            index,
            deadpool_sqlite::rusqlite::types::Type::Text,
            Box::new(e),
        )
    })
}

fn deployment_row(r: &Row<'_>) -> deadpool_sqlite::rusqlite::Result<Deployment> {
    let desired: String = r.get(8)?;
    Ok(Deployment {
        id: r.get(0)?,
        team_id: r.get(1)?,
        name: r.get(2)?,
        model_id: r.get(3)?,
        target: r.get(4)?,
        task: r.get(5)?,
        spec: json_at(r, 6)?,
        current_version: r.get(7)?,
        desired: DesiredState::parse(&desired).unwrap_or(DesiredState::Running),
        generation: gen_at(r, 9)?,
        observed_generation: gen_at(r, 10)?,
        observed_version: r.get(11)?,
        status: r.get(12)?,
        status_message: r.get(13)?,
        target_state: json_at(r, 14)?,
        endpoint_url: r.get(15)?,
        attempts: r.get(16)?,
        next_attempt_at: opt_time_at(r, 17)?,
        lease_holder: r.get(18)?,
        lease_until: opt_time_at(r, 19)?,
        idempotency_key: r.get(20)?,
        request_hash: r.get(21)?,
        created_by: r.get(22)?,
        created_at: time_at(r, 23)?,
        updated_at: time_at(r, 24)?,
    })
}

fn version_row(r: &Row<'_>) -> deadpool_sqlite::rusqlite::Result<DeploymentVersion> {
    Ok(DeploymentVersion {
        deployment_id: r.get(0)?,
        version: r.get(1)?,
        spec: json_at(r, 2)?,
        created_by: r.get(3)?,
        created_at: time_at(r, 4)?,
        note: r.get(5)?,
    })
}

fn event_row(r: &Row<'_>) -> deadpool_sqlite::rusqlite::Result<DeploymentEvent> {
    Ok(DeploymentEvent {
        id: r.get(0)?,
        deployment_id: r.get(1)?,
        at: time_at(r, 2)?,
        actor: r.get(3)?,
        kind: r.get(4)?,
        message: r.get(5)?,
    })
}

fn gen_at(r: &Row<'_>, index: usize) -> deadpool_sqlite::rusqlite::Result<u64> {
    Ok(u64::try_from(r.get::<_, i64>(index)?).unwrap_or(0))
}

fn sql_gen(g: u64) -> i64 {
    i64::try_from(g).unwrap_or(i64::MAX)
}

fn to_json(value: &serde_json::Value) -> String {
    value.to_string()
}

fn get(c: &Connection, id: &str) -> Result<Option<Deployment>> {
    c.prepare_cached(&format!("SELECT {COLUMNS} FROM deployments WHERE id = ?1"))
        .db()?
        .query_row([id], deployment_row)
        .optional()
        .db()
}

fn by_idempotency_key(c: &Connection, team_id: &str, key: &str) -> Result<Option<Deployment>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM deployments WHERE team_id = ?1 AND idempotency_key = ?2"),
        [team_id, key],
        deployment_row,
    )
    .optional()
    .db()
}

fn insert_event(c: &Connection, e: &DeploymentEvent) -> Result<()> {
    c.execute(
        "INSERT INTO deployment_events (id, deployment_id, at, actor, kind, message)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![e.id, e.deployment_id, ms(e.at), e.actor, e.kind, e.message],
    )
    .db()
    .map(|_| ())
}

fn insert_version(c: &Connection, v: &DeploymentVersion) -> Result<()> {
    c.execute(
        "INSERT INTO deployment_versions (deployment_id, version, spec, created_by, created_at, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            v.deployment_id,
            v.version,
            to_json(&v.spec),
            v.created_by,
            ms(v.created_at),
            v.note
        ],
    )
    .db()
    .map(|_| ())
}

fn changed_or_not_found(c: &Connection, id: &str, changed: usize) -> Result<Deployment> {
    match get(c, id)? {
        Some(d) if changed > 0 => Ok(d),
        Some(_) => Err(StoreError::Internal(
            "deployment update matched no row".into(),
        )),
        None => Err(StoreError::NotFound),
    }
}

#[async_trait]
impl DeploymentRepo for SqliteStore {
    async fn create_deployment(&self, new: NewDeployment) -> Result<Created> {
        let (d, version, event) = new.into_records();
        self.with_conn(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            if let Some(key) = &d.idempotency_key
                && let Some(existing) = by_idempotency_key(&tx, &d.team_id, key)?
            {
                return Ok(Created::Existing(existing));
            }
            tx.execute(
                &format!("INSERT INTO deployments ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)"),
                params![
                    d.id,
                    d.team_id,
                    d.name,
                    d.model_id,
                    d.target,
                    d.task,
                    to_json(&d.spec),
                    d.current_version,
                    d.desired.as_str(),
                    sql_gen(d.generation),
                    sql_gen(d.observed_generation),
                    d.observed_version,
                    d.status,
                    d.status_message,
                    to_json(&d.target_state),
                    d.endpoint_url,
                    d.attempts,
                    d.next_attempt_at.map(ms),
                    d.lease_holder,
                    d.lease_until.map(ms),
                    d.idempotency_key,
                    d.request_hash,
                    d.created_by,
                    ms(d.created_at),
                    ms(d.updated_at)
                ],
            )
            .db()?;
            insert_version(&tx, &version)?;
            insert_event(&tx, &event)?;
            tx.commit().db()?;
            Ok(Created::New(d))
        })
        .await
    }

    async fn deployment_by_id(&self, id: &str) -> Result<Option<Deployment>> {
        let id = id.to_owned();
        self.with_conn(move |c| get(c, &id)).await
    }

    async fn deployments_for_team(&self, team_id: &str) -> Result<Vec<Deployment>> {
        let team_id = team_id.to_owned();
        self.with_conn(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM deployments WHERE team_id = ?1
                     ORDER BY created_at DESC, id DESC"
                ))
                .db()?;
            let rows = stmt.query_map([team_id], deployment_row).db()?;
            rows.collect::<deadpool_sqlite::rusqlite::Result<Vec<_>>>()
                .db()
        })
        .await
    }

    async fn add_deployment_version(
        &self,
        id: &str,
        expected_version: u32,
        spec: serde_json::Value,
        created_by: &str,
        note: &str,
    ) -> Result<Deployment> {
        let (id, created_by, note) = (id.to_owned(), created_by.to_owned(), note.to_owned());
        self.with_conn(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            let current = get(&tx, &id)?.ok_or(StoreError::NotFound)?;
            if current.current_version != expected_version {
                return Err(StoreError::Conflict(
                    conflict::DEPLOYMENT_VERSION_MOVED.into(),
                ));
            }
            let now = now_millis();
            let version = DeploymentVersion {
                deployment_id: id.clone(),
                version: expected_version + 1,
                spec,
                created_by,
                created_at: now,
                note,
            };
            insert_version(&tx, &version)?;
            let n = tx
                .execute(
                    "UPDATE deployments SET spec = ?2, current_version = ?3,
                        desired = CASE desired WHEN 'deleted' THEN 'deleted' ELSE 'running' END,
                        generation = generation + 1, attempts = 0, next_attempt_at = NULL,
                        updated_at = ?4
                     WHERE id = ?1",
                    params![id, to_json(&version.spec), version.version, ms(now)],
                )
                .db()?;
            let d = changed_or_not_found(&tx, &id, n)?;
            tx.commit().db()?;
            Ok(d)
        })
        .await
    }

    async fn deployment_versions(&self, id: &str) -> Result<Vec<DeploymentVersion>> {
        let id = id.to_owned();
        self.with_conn(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT deployment_id, version, spec, created_by, created_at, note
                     FROM deployment_versions WHERE deployment_id = ?1 ORDER BY version DESC",
                )
                .db()?;
            let rows = stmt.query_map([id], version_row).db()?;
            rows.collect::<deadpool_sqlite::rusqlite::Result<Vec<_>>>()
                .db()
        })
        .await
    }

    async fn set_desired_state(&self, id: &str, desired: DesiredState) -> Result<Deployment> {
        let id = id.to_owned();
        self.with_conn(move |c| {
            let n = c
                .execute(
                    "UPDATE deployments SET desired = ?2, generation = generation + 1,
                        attempts = 0, next_attempt_at = NULL, updated_at = ?3
                     WHERE id = ?1",
                    params![id, desired.as_str(), ms(now_millis())],
                )
                .db()?;
            changed_or_not_found(c, &id, n)
        })
        .await
    }

    async fn acquire_deployment_lease(
        &self,
        id: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<Deployment>> {
        let (id, holder) = (id.to_owned(), holder.to_owned());
        self.with_conn(move |c| {
            let n = c
                .execute(
                    "UPDATE deployments SET lease_holder = ?2, lease_until = ?4
                     WHERE id = ?1
                       AND (lease_holder IS NULL OR lease_holder = ?2 OR lease_until <= ?3)",
                    params![id, holder, ms(now), ms(until)],
                )
                .db()?;
            if n == 0 {
                return Ok(None);
            }
            get(c, &id)
        })
        .await
    }

    async fn release_deployment_lease(&self, id: &str, holder: &str) -> Result<bool> {
        let (id, holder) = (id.to_owned(), holder.to_owned());
        self.with_conn(move |c| {
            let n = c
                .execute(
                    "UPDATE deployments SET lease_holder = NULL, lease_until = NULL
                     WHERE id = ?1 AND lease_holder = ?2",
                    params![id, holder],
                )
                .db()?;
            Ok(n > 0)
        })
        .await
    }

    async fn record_observation(
        &self,
        id: &str,
        holder: &str,
        now: DateTime<Utc>,
        o: Observation,
    ) -> Result<Option<Deployment>> {
        let (id, holder) = (id.to_owned(), holder.to_owned());
        self.with_conn(move |c| {
            let n = c
                .execute(
                    "UPDATE deployments SET status = ?4, status_message = ?5,
                        observed_generation = MAX(observed_generation, ?6),
                        observed_version = ?7, target_state = ?8, endpoint_url = ?9,
                        attempts = ?10,
                        next_attempt_at = CASE WHEN generation > ?6 THEN NULL ELSE ?11 END,
                        updated_at = ?3
                     WHERE id = ?1 AND lease_holder = ?2 AND lease_until > ?3",
                    params![
                        id,
                        holder,
                        ms(now),
                        o.status,
                        o.status_message,
                        sql_gen(o.generation),
                        o.observed_version,
                        to_json(&o.target_state),
                        o.endpoint_url,
                        o.attempts,
                        o.next_attempt_at.map(ms)
                    ],
                )
                .db()?;
            if n == 0 {
                return Ok(None);
            }
            get(c, &id)
        })
        .await
    }

    async fn set_deployment_status(
        &self,
        id: &str,
        status: &str,
        message: Option<&str>,
    ) -> Result<bool> {
        let (id, status, message) = (id.to_owned(), status.to_owned(), message.map(str::to_owned));
        self.with_conn(move |c| {
            let n = c
                .execute(
                    "UPDATE deployments SET status = ?2, status_message = ?3, updated_at = ?4
                     WHERE id = ?1",
                    params![id, status, message, ms(now_millis())],
                )
                .db()?;
            Ok(n > 0)
        })
        .await
    }

    async fn deployments_to_reconcile(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<String>> {
        self.with_conn(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT id FROM deployments
                     WHERE (observed_generation < generation OR next_attempt_at IS NOT NULL)
                       AND (next_attempt_at IS NULL OR next_attempt_at <= ?1)
                       AND (lease_holder IS NULL OR lease_until <= ?1)
                     ORDER BY updated_at, id LIMIT ?2",
                )
                .db()?;
            let rows = stmt
                .query_map(params![ms(now), limit], |r| r.get::<_, String>(0))
                .db()?;
            rows.collect::<deadpool_sqlite::rusqlite::Result<Vec<_>>>()
                .db()
        })
        .await
    }

    async fn add_deployment_event(&self, event: NewDeploymentEvent) -> Result<DeploymentEvent> {
        let e = event.into_record();
        let record = e.clone();
        self.with_conn(move |c| insert_event(c, &record)).await?;
        Ok(e)
    }

    async fn deployment_events(&self, id: &str, limit: u32) -> Result<Vec<DeploymentEvent>> {
        let id = id.to_owned();
        self.with_conn(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, deployment_id, at, actor, kind, message FROM deployment_events
                     WHERE deployment_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
                )
                .db()?;
            let rows = stmt.query_map(params![id, limit], event_row).db()?;
            rows.collect::<deadpool_sqlite::rusqlite::Result<Vec<_>>>()
                .db()
        })
        .await
    }

    async fn delete_deployment(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.with_conn(move |c| {
            let n = c
                .execute("DELETE FROM deployments WHERE id = ?1", [id])
                .db()?;
            Ok(n > 0)
        })
        .await
    }
}
