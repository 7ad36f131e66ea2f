//! [`DeploymentRepo`] on MongoDB: collections `deployments`, `deployment_versions` (`_id` =
//! `<deployment>:<version>`, so a version number is taken at most once) and
//! `deployment_events`. The spec and target state are stored as JSON text: their keys are
//! user input (environment variable names) and must never be read as operators or paths.
//!
//! Helper fields: `name_key` and `idem_key` (team id + name / idempotency key) carry the
//! unique indexes; `dirty` is true while `observed_generation < generation`, kept in every
//! write, so the reconciler's query needs no `$expr`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::{FindOptions, IndexOptions, ReturnDocument};
use mongodb::{Collection, IndexModel};

use super::{
    CAS_ATTEMPTS, MongoStore, bad_document, bdate, collect, get_opt_string, get_opt_time,
    get_string, get_time, op, opt_date, opt_string,
};
use crate::deployments::{
    Created, Deployment, DeploymentEvent, DeploymentRepo, DeploymentVersion, DesiredState,
    NewDeployment, NewDeploymentEvent, Observation,
};
use crate::{Result, StoreError, conflict, now_millis};

const DEPLOYMENTS: &str = "deployments";
const VERSIONS: &str = "deployment_versions";
const EVENTS: &str = "deployment_events";

fn key(team_id: &str, part: &str) -> String {
    format!("{team_id}\n{part}")
}

fn get_json(d: &Document, k: &str, collection: &str) -> Result<serde_json::Value> {
    let text = get_string(d, k, collection)?;
    serde_json::from_str(&text).map_err(|e| bad_document(collection, e))
}

fn get_u32(d: &Document, k: &str, collection: &str) -> Result<u32> {
    let v = match d.get(k) {
        Some(Bson::Int32(v)) => i64::from(*v),
        Some(Bson::Int64(v)) => *v,
        _ => return Err(bad_document(collection, format!("{k} is not an integer"))),
    };
    u32::try_from(v).map_err(|e| bad_document(collection, e))
}

fn get_u64(d: &Document, k: &str, collection: &str) -> Result<u64> {
    let v = match d.get(k) {
        Some(Bson::Int32(v)) => i64::from(*v),
        Some(Bson::Int64(v)) => *v,
        _ => return Err(bad_document(collection, format!("{k} is not an integer"))),
    };
    u64::try_from(v).map_err(|e| bad_document(collection, e))
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn deployment_from(d: &Document) -> Result<Deployment> {
    let desired = get_string(d, "desired", DEPLOYMENTS)?;
    Ok(Deployment {
        id: get_string(d, "_id", DEPLOYMENTS)?,
        team_id: get_string(d, "team_id", DEPLOYMENTS)?,
        name: get_string(d, "name", DEPLOYMENTS)?,
        model_id: get_string(d, "model_id", DEPLOYMENTS)?,
        target: get_string(d, "target", DEPLOYMENTS)?,
        task: get_string(d, "task", DEPLOYMENTS)?,
        spec: get_json(d, "spec", DEPLOYMENTS)?,
        current_version: get_u32(d, "current_version", DEPLOYMENTS)?,
        desired: DesiredState::parse(&desired)
            .ok_or_else(|| bad_document(DEPLOYMENTS, "unknown desired state"))?,
        generation: get_u64(d, "generation", DEPLOYMENTS)?,
        observed_generation: get_u64(d, "observed_generation", DEPLOYMENTS)?,
        observed_version: match d.get("observed_version") {
            None | Some(Bson::Null) => None,
            Some(_) => Some(get_u32(d, "observed_version", DEPLOYMENTS)?),
        },
        status: get_string(d, "status", DEPLOYMENTS)?,
        status_message: get_opt_string(d, "status_message", DEPLOYMENTS)?,
        target_state: get_json(d, "target_state", DEPLOYMENTS)?,
        endpoint_url: get_opt_string(d, "endpoint_url", DEPLOYMENTS)?,
        attempts: get_u32(d, "attempts", DEPLOYMENTS)?,
        next_attempt_at: get_opt_time(d, "next_attempt_at", DEPLOYMENTS)?,
        lease_holder: get_opt_string(d, "lease_holder", DEPLOYMENTS)?,
        lease_until: get_opt_time(d, "lease_until", DEPLOYMENTS)?,
        idempotency_key: get_opt_string(d, "idempotency_key", DEPLOYMENTS)?,
        request_hash: get_opt_string(d, "request_hash", DEPLOYMENTS)?,
        created_by: get_string(d, "created_by", DEPLOYMENTS)?,
        created_at: get_time(d, "created_at", DEPLOYMENTS)?,
        updated_at: get_time(d, "updated_at", DEPLOYMENTS)?,
    })
}

fn deployment_doc(x: &Deployment) -> Document {
    let mut d = doc! {
        "_id": &x.id,
        "team_id": &x.team_id,
        "name": &x.name,
        "name_key": key(&x.team_id, &x.name),
        "model_id": &x.model_id,
        "target": &x.target,
        "task": &x.task,
        "spec": x.spec.to_string(),
        "current_version": i64::from(x.current_version),
        "desired": x.desired.as_str(),
        "generation": int(x.generation),
        "observed_generation": int(x.observed_generation),
        "dirty": x.observed_generation < x.generation,
        "observed_version": x.observed_version.map_or(Bson::Null, |v| Bson::Int64(i64::from(v))),
        "status": &x.status,
        "status_message": opt_string(x.status_message.clone()),
        "target_state": x.target_state.to_string(),
        "endpoint_url": opt_string(x.endpoint_url.clone()),
        "attempts": i64::from(x.attempts),
        "next_attempt_at": opt_date(x.next_attempt_at),
        "lease_holder": opt_string(x.lease_holder.clone()),
        "lease_until": opt_date(x.lease_until),
        "idempotency_key": opt_string(x.idempotency_key.clone()),
        "request_hash": opt_string(x.request_hash.clone()),
        "created_by": &x.created_by,
        "created_at": bdate(x.created_at),
        "updated_at": bdate(x.updated_at),
    };
    if let Some(k) = &x.idempotency_key {
        d.insert("idem_key", key(&x.team_id, k));
    }
    d
}

fn version_doc(v: &DeploymentVersion) -> Document {
    doc! {
        "_id": format!("{}:{}", v.deployment_id, v.version),
        "deployment_id": &v.deployment_id,
        "version": i64::from(v.version),
        "spec": v.spec.to_string(),
        "created_by": &v.created_by,
        "created_at": bdate(v.created_at),
        "note": &v.note,
    }
}

fn version_from(d: &Document) -> Result<DeploymentVersion> {
    Ok(DeploymentVersion {
        deployment_id: get_string(d, "deployment_id", VERSIONS)?,
        version: get_u32(d, "version", VERSIONS)?,
        spec: get_json(d, "spec", VERSIONS)?,
        created_by: get_string(d, "created_by", VERSIONS)?,
        created_at: get_time(d, "created_at", VERSIONS)?,
        note: get_string(d, "note", VERSIONS)?,
    })
}

fn event_doc(e: &DeploymentEvent) -> Document {
    doc! {
        "_id": &e.id,
        "deployment_id": &e.deployment_id,
        "at": bdate(e.at),
        "actor": opt_string(e.actor.clone()),
        "kind": &e.kind,
        "message": &e.message,
    }
}

fn event_from(d: &Document) -> Result<DeploymentEvent> {
    Ok(DeploymentEvent {
        id: get_string(d, "_id", EVENTS)?,
        deployment_id: get_string(d, "deployment_id", EVENTS)?,
        at: get_time(d, "at", EVENTS)?,
        actor: get_opt_string(d, "actor", EVENTS)?,
        kind: get_string(d, "kind", EVENTS)?,
        message: get_string(d, "message", EVENTS)?,
    })
}

impl MongoStore {
    fn deployments(&self) -> Collection<Document> {
        self.db.collection(DEPLOYMENTS)
    }

    fn deployment_versions_coll(&self) -> Collection<Document> {
        self.db.collection(VERSIONS)
    }

    fn deployment_events_coll(&self) -> Collection<Document> {
        self.db.collection(EVENTS)
    }

    pub(super) async fn create_deployment_indexes(&self) -> Result<()> {
        let index = |keys: Document, name: &str, unique: bool, sparse: bool| {
            IndexModel::builder()
                .keys(keys)
                .options(
                    IndexOptions::builder()
                        .name(name.to_owned())
                        .unique(unique.then_some(true))
                        .sparse(sparse.then_some(true))
                        .build(),
                )
                .build()
        };
        let d = self.deployments();
        op(d.create_index(index(
            doc! { "name_key": 1 },
            "deployments_name",
            true,
            false,
        )))
        .await?;
        op(d.create_index(index(
            doc! { "idem_key": 1 },
            "deployments_idem",
            true,
            true,
        )))
        .await?;
        op(d.create_index(index(
            doc! { "team_id": 1, "created_at": -1 },
            "deployments_team",
            false,
            false,
        )))
        .await?;
        op(d.create_index(index(
            doc! { "dirty": 1, "next_attempt_at": 1 },
            "deployments_pending",
            false,
            false,
        )))
        .await?;
        op(self.deployment_events_coll().create_index(index(
            doc! { "deployment_id": 1, "at": -1 },
            "deployment_events_deployment",
            false,
            false,
        )))
        .await?;
        op(self.deployment_versions_coll().create_index(index(
            doc! { "deployment_id": 1, "version": -1 },
            "deployment_versions_deployment",
            false,
            false,
        )))
        .await
        .map(|_| ())
    }

    async fn deployment_doc_by_id(&self, id: &str) -> Result<Option<Deployment>> {
        op(self.deployments().find_one(doc! { "_id": id }))
            .await?
            .as_ref()
            .map(deployment_from)
            .transpose()
    }

    async fn by_idem(&self, team_id: &str, k: &str) -> Result<Option<Deployment>> {
        op(self
            .deployments()
            .find_one(doc! { "idem_key": key(team_id, k) }))
        .await?
        .as_ref()
        .map(deployment_from)
        .transpose()
    }
}

/// The team must exist (the SQLite adapter's foreign key answers the same).
async fn team_exists(store: &MongoStore, team_id: &str) -> Result<bool> {
    Ok(op(store.teams.find_one(doc! { "_id": team_id }))
        .await?
        .is_some())
}

#[async_trait]
impl DeploymentRepo for MongoStore {
    async fn create_deployment(&self, new: NewDeployment) -> Result<Created> {
        let (d, version, event) = new.into_records();
        if let Some(k) = &d.idempotency_key
            && let Some(existing) = self.by_idem(&d.team_id, k).await?
        {
            return Ok(Created::Existing(existing));
        }
        if !team_exists(self, &d.team_id).await? {
            return Err(StoreError::NotFound);
        }
        match op(self.deployments().insert_one(deployment_doc(&d))).await {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => {
                // Lost a race on the idempotency key, or the name is taken.
                if let Some(k) = &d.idempotency_key
                    && let Some(existing) = self.by_idem(&d.team_id, k).await?
                {
                    return Ok(Created::Existing(existing));
                }
                return Err(StoreError::Conflict(conflict::DEPLOYMENT_NAME_TAKEN.into()));
            }
            Err(e) => return Err(e),
        }
        op(self
            .deployment_versions_coll()
            .insert_one(version_doc(&version)))
        .await?;
        op(self.deployment_events_coll().insert_one(event_doc(&event))).await?;
        Ok(Created::New(d))
    }

    async fn deployment_by_id(&self, id: &str) -> Result<Option<Deployment>> {
        self.deployment_doc_by_id(id).await
    }

    async fn deployments_for_team(&self, team_id: &str) -> Result<Vec<Deployment>> {
        let cursor = op(self
            .deployments()
            .find(doc! { "team_id": team_id })
            .with_options(
                FindOptions::builder()
                    .sort(doc! { "created_at": -1, "_id": -1 })
                    .build(),
            ))
        .await?;
        collect(cursor, DEPLOYMENTS, deployment_from).await
    }

    async fn add_deployment_version(
        &self,
        id: &str,
        expected_version: u32,
        spec: serde_json::Value,
        created_by: &str,
        note: &str,
    ) -> Result<Deployment> {
        let current = self
            .deployment_doc_by_id(id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let moved = || StoreError::Conflict(conflict::DEPLOYMENT_VERSION_MOVED.into());
        if current.current_version != expected_version {
            return Err(moved());
        }
        let now = now_millis();
        let version = DeploymentVersion {
            deployment_id: id.to_owned(),
            version: expected_version + 1,
            spec,
            created_by: created_by.to_owned(),
            created_at: now,
            note: note.to_owned(),
        };
        // The version's `_id` is unique: of two concurrent writers only one gets here.
        match op(self
            .deployment_versions_coll()
            .insert_one(version_doc(&version)))
        .await
        {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => return Err(moved()),
            Err(e) => return Err(e),
        }
        let desired = if current.desired == DesiredState::Deleted {
            DesiredState::Deleted
        } else {
            DesiredState::Running
        };
        let updated = op(self
            .deployments()
            .find_one_and_update(
                doc! { "_id": id, "current_version": i64::from(expected_version) },
                doc! {
                    "$set": {
                        "spec": version.spec.to_string(),
                        "current_version": i64::from(version.version),
                        "desired": desired.as_str(),
                        "dirty": true,
                        "attempts": 0_i64,
                        "next_attempt_at": Bson::Null,
                        "updated_at": bdate(now),
                    },
                    "$inc": { "generation": 1_i64 },
                },
            )
            .return_document(ReturnDocument::After))
        .await?;
        updated
            .as_ref()
            .map(deployment_from)
            .transpose()?
            .ok_or_else(moved)
    }

    async fn deployment_versions(&self, id: &str) -> Result<Vec<DeploymentVersion>> {
        let cursor = op(self
            .deployment_versions_coll()
            .find(doc! { "deployment_id": id })
            .with_options(FindOptions::builder().sort(doc! { "version": -1 }).build()))
        .await?;
        collect(cursor, VERSIONS, version_from).await
    }

    async fn set_desired_state(&self, id: &str, desired: DesiredState) -> Result<Deployment> {
        let updated = op(self
            .deployments()
            .find_one_and_update(
                doc! { "_id": id },
                doc! {
                    "$set": {
                        "desired": desired.as_str(),
                        "dirty": true,
                        "attempts": 0_i64,
                        "next_attempt_at": Bson::Null,
                        "updated_at": bdate(now_millis()),
                    },
                    "$inc": { "generation": 1_i64 },
                },
            )
            .return_document(ReturnDocument::After))
        .await?;
        updated
            .as_ref()
            .map(deployment_from)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    async fn acquire_deployment_lease(
        &self,
        id: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<Deployment>> {
        let updated = op(self
            .deployments()
            .find_one_and_update(
                doc! {
                    "_id": id,
                    "$or": [
                        { "lease_holder": Bson::Null },
                        { "lease_holder": holder },
                        { "lease_until": { "$lte": bdate(now) } },
                    ],
                },
                doc! { "$set": { "lease_holder": holder, "lease_until": bdate(until) } },
            )
            .return_document(ReturnDocument::After))
        .await?;
        updated.as_ref().map(deployment_from).transpose()
    }

    async fn release_deployment_lease(&self, id: &str, holder: &str) -> Result<bool> {
        let r = op(self.deployments().update_one(
            doc! { "_id": id, "lease_holder": holder },
            doc! { "$set": { "lease_holder": Bson::Null, "lease_until": Bson::Null } },
        ))
        .await?;
        Ok(r.matched_count > 0)
    }

    async fn record_observation(
        &self,
        id: &str,
        holder: &str,
        now: DateTime<Utc>,
        o: Observation,
    ) -> Result<Option<Deployment>> {
        // Compare-and-set on the generation, so `dirty` and `next_attempt_at` are judged
        // against the value the write lands on.
        for _ in 0..CAS_ATTEMPTS {
            let Some(current) = self.deployment_doc_by_id(id).await? else {
                return Ok(None);
            };
            let observed = current.observed_generation.max(o.generation);
            let dirty = observed < current.generation;
            let next = if current.generation > o.generation {
                None
            } else {
                o.next_attempt_at
            };
            let updated = op(self
                .deployments()
                .find_one_and_update(
                    doc! {
                        "_id": id,
                        "generation": int(current.generation),
                        "lease_holder": holder,
                        "lease_until": { "$gt": bdate(now) },
                    },
                    doc! { "$set": {
                        "status": &o.status,
                        "status_message": opt_string(o.status_message.clone()),
                        "observed_generation": int(observed),
                        "dirty": dirty,
                        "observed_version": o.observed_version.map_or(Bson::Null, |v| Bson::Int64(i64::from(v))),
                        "target_state": o.target_state.to_string(),
                        "endpoint_url": opt_string(o.endpoint_url.clone()),
                        "attempts": i64::from(o.attempts),
                        "next_attempt_at": opt_date(next),
                        "updated_at": bdate(now),
                    } },
                )
                .return_document(ReturnDocument::After))
            .await?;
            if let Some(d) = updated {
                return deployment_from(&d).map(Some);
            }
            let lease_ok = current.lease_holder.as_deref() == Some(holder)
                && current.lease_until.is_some_and(|t| t > now);
            if !lease_ok {
                return Ok(None);
            }
        }
        Err(StoreError::Conflict(conflict::CONCURRENT_UPDATE.into()))
    }

    async fn set_deployment_status(
        &self,
        id: &str,
        status: &str,
        message: Option<&str>,
    ) -> Result<bool> {
        let r = op(self.deployments().update_one(
            doc! { "_id": id },
            doc! { "$set": {
                "status": status,
                "status_message": opt_string(message.map(str::to_owned)),
                "updated_at": bdate(now_millis()),
            } },
        ))
        .await?;
        Ok(r.matched_count > 0)
    }

    async fn deployments_to_reconcile(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<String>> {
        let now = bdate(now);
        let cursor = op(self
            .deployments()
            .find(doc! { "$and": [
                { "$or": [ { "dirty": true }, { "next_attempt_at": { "$ne": Bson::Null } } ] },
                { "$or": [ { "next_attempt_at": Bson::Null }, { "next_attempt_at": { "$lte": now } } ] },
                { "$or": [ { "lease_holder": Bson::Null }, { "lease_until": { "$lte": now } } ] },
            ] })
            .with_options(
                FindOptions::builder()
                    .sort(doc! { "updated_at": 1, "_id": 1 })
                    .limit(i64::from(limit))
                    .projection(doc! { "_id": 1 })
                    .build(),
            ))
        .await?;
        collect(cursor, DEPLOYMENTS, |d| get_string(d, "_id", DEPLOYMENTS)).await
    }

    async fn add_deployment_event(&self, event: NewDeploymentEvent) -> Result<DeploymentEvent> {
        let e = event.into_record();
        op(self.deployment_events_coll().insert_one(event_doc(&e))).await?;
        Ok(e)
    }

    async fn deployment_events(&self, id: &str, limit: u32) -> Result<Vec<DeploymentEvent>> {
        let cursor = op(self
            .deployment_events_coll()
            .find(doc! { "deployment_id": id })
            .with_options(
                FindOptions::builder()
                    .sort(doc! { "at": -1, "_id": -1 })
                    .limit(i64::from(limit))
                    .build(),
            ))
        .await?;
        collect(cursor, EVENTS, event_from).await
    }

    async fn delete_deployment(&self, id: &str) -> Result<bool> {
        // Children first, so a failure part-way is finished by a retry.
        op(self
            .deployment_events_coll()
            .delete_many(doc! { "deployment_id": id }))
        .await?;
        op(self
            .deployment_versions_coll()
            .delete_many(doc! { "deployment_id": id }))
        .await?;
        let r = op(self.deployments().delete_one(doc! { "_id": id })).await?;
        Ok(r.deleted_count > 0)
    }
}
