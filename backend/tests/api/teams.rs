//! Teams: invitations, and what each role may do (checked per role).

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Session, TestApp, assert_error, spawn_app};

struct Team {
    id: String,
    owner: Session,
}

async fn team_with(app: &TestApp, name: &str) -> Team {
    let (_, owner) = app.signup("owner").await;
    let res = app
        .post_as("/api/v1/teams", &owner.access, &json!({"name": name}))
        .await;
    assert_eq!(res.status(), 201);
    let team: serde_json::Value = res.json().await.unwrap();
    assert_eq!(team["role"], "owner");
    assert!(
        team["slug"].as_str().unwrap().starts_with("ml-platform-"),
        "{team}"
    );
    Team {
        id: team["id"].as_str().unwrap().to_owned(),
        owner,
    }
}

/// Invites a new user with `role` and has them accept; returns their session.
async fn member(app: &TestApp, team: &Team, role: &str) -> Session {
    let (email, s) = app.signup(role).await;
    let res = app
        .post_as(
            &format!("/api/v1/teams/{}/invitations", team.id),
            &team.owner.access,
            &json!({"email": email, "role": role}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let pending: Vec<serde_json::Value> = app
        .get_as("/api/v1/me/invitations", &s.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["team_name"], "ML Platform");
    let res = app
        .post_as(
            &format!(
                "/api/v1/invitations/{}/accept",
                pending[0]["id"].as_str().unwrap()
            ),
            &s.access,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    s
}

#[tokio::test]
async fn invitations_bring_people_in_with_a_role() {
    let app = spawn_app().await;
    let team = team_with(&app, "ML Platform").await;
    let admin = member(&app, &team, "admin").await;
    let detail: serde_json::Value = app
        .get_as(&format!("/api/v1/teams/{}", team.id), &admin.access)
        .await
        .json()
        .await
        .unwrap();
    let roles: Vec<_> = detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["owner", "admin"]);

    // An invitation is for its address only, and only once.
    let (_, stranger) = app.signup("stranger").await;
    let inv: serde_json::Value = app
        .post_as(
            &format!("/api/v1/teams/{}/invitations", team.id),
            &team.owner.access,
            &json!({"email": "someone@example.com", "role": "member"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = app
        .post_as(
            &format!("/api/v1/invitations/{}/accept", inv["id"].as_str().unwrap()),
            &stranger.access,
            &json!({}),
        )
        .await;
    assert!(
        matches!(res.status().as_u16(), 404 | 409),
        "{}",
        res.status()
    );
    let list: Vec<serde_json::Value> = app
        .get_as(
            &format!("/api/v1/teams/{}/invitations", team.id),
            &admin.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.iter().filter(|i| i["status"] == "pending").count(), 1);
    let res = app
        .delete_as(
            &format!(
                "/api/v1/teams/{}/invitations/{}",
                team.id,
                inv["id"].as_str().unwrap()
            ),
            &admin.access,
        )
        .await;
    assert_eq!(res.status(), 204);

    // Outsiders cannot see the team at all.
    assert_error(
        app.get_as(&format!("/api/v1/teams/{}", team.id), &stranger.access)
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn each_role_can_do_exactly_what_it_should() {
    let app = spawn_app().await;
    let team = team_with(&app, "ML Platform").await;
    let admin = member(&app, &team, "admin").await;
    let memb = member(&app, &team, "member").await;
    let viewer = member(&app, &team, "viewer").await;
    // Everyone can view.
    for s in [&admin, &memb, &viewer] {
        assert_eq!(
            app.get_as(&format!("/api/v1/teams/{}", team.id), &s.access)
                .await
                .status(),
            200
        );
    }
    // Viewers and members cannot manage members.
    assert_error(
        invite(&app, &team.id, &viewer, "viewer").await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        invite(&app, &team.id, &memb, "viewer").await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        set_role(&app, &team.id, &memb, viewer.user_id(), "member").await,
        403,
        "forbidden",
    )
    .await;
    // Admins manage non-owners but cannot make or touch owners.
    assert_eq!(invite(&app, &team.id, &admin, "member").await.status(), 201);
    assert_error(
        invite(&app, &team.id, &admin, "owner").await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        set_role(&app, &team.id, &admin, viewer.user_id(), "member")
            .await
            .status(),
        204
    );
    assert_error(
        set_role(&app, &team.id, &admin, memb.user_id(), "owner").await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        set_role(&app, &team.id, &admin, team.owner.user_id(), "admin").await,
        403,
        "forbidden",
    )
    .await;
    // Only owners delete the team.
    assert_error(
        app.delete_as(&format!("/api/v1/teams/{}", team.id), &admin.access)
            .await,
        403,
        "forbidden",
    )
    .await;

    // A team always keeps an owner.
    assert_error(
        set_role(&app, &team.id, &team.owner, team.owner.user_id(), "admin").await,
        409,
        "conflict",
    )
    .await;
    let leave = app
        .delete_as(
            &format!("/api/v1/teams/{}/members/{}", team.id, team.owner.user_id()),
            &team.owner.access,
        )
        .await;
    assert_error(leave, 409, "conflict").await;
    assert_eq!(
        set_role(&app, &team.id, &team.owner, admin.user_id(), "owner")
            .await
            .status(),
        204
    );
    assert_eq!(
        set_role(&app, &team.id, &team.owner, team.owner.user_id(), "member")
            .await
            .status(),
        204
    );

    // Anyone may leave.
    let res = app
        .delete_as(
            &format!("/api/v1/teams/{}/members/{}", team.id, viewer.user_id()),
            &viewer.access,
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_error(
        app.get_as(&format!("/api/v1/teams/{}", team.id), &viewer.access)
            .await,
        404,
        "not_found",
    )
    .await;

    // The new owner can delete the team.
    assert_eq!(
        app.delete_as(&format!("/api/v1/teams/{}", team.id), &admin.access)
            .await
            .status(),
        204
    );
}

#[tokio::test]
async fn personal_teams_stay_personal() {
    let app = spawn_app().await;
    let (_, s) = app.signup("solo").await;
    let personal = s.personal_team();
    let res = app
        .post_as(
            &format!("/api/v1/teams/{personal}/invitations"),
            &s.access,
            &json!({"email": "x@example.com", "role": "member"}),
        )
        .await;
    assert_error(res, 409, "conflict").await;
    assert_error(
        app.delete_as(&format!("/api/v1/teams/{personal}"), &s.access)
            .await,
        409,
        "conflict",
    )
    .await;
}

async fn invite(app: &TestApp, team: &str, s: &Session, role: &str) -> reqwest::Response {
    let body = json!({"email": format!("new-{role}-{}@example.com", uuid::Uuid::new_v4().simple()), "role": role});
    app.post_as(
        &format!("/api/v1/teams/{team}/invitations"),
        &s.access,
        &body,
    )
    .await
}

async fn set_role(
    app: &TestApp,
    team: &str,
    s: &Session,
    user: String,
    role: &str,
) -> reqwest::Response {
    app.authed(
        Method::PATCH,
        &format!("/api/v1/teams/{team}/members/{user}"),
        &s.access,
    )
    .json(&json!({"role": role}))
    .send()
    .await
    .unwrap()
}
