//! Teams, members, invitations and API keys. Role checks go through `auth::policy`.

use std::collections::BTreeSet;

use chrono::Utc;
use hfb_shared::ErrorCode;
use hfb_shared::auth::{
    ApiKeyInfo, CreateApiKeyRequest, CreatedApiKey, InvitationInfo, InviteRequest, MemberInfo,
    Role, Scope, TeamDetail, TeamSummary,
};
use hfb_store::{ApiKey, Invitation, NewApiKey, NewInvitation, NewTeam, Team};

use crate::auth::Principal;
use crate::auth::extract::require;
use crate::auth::policy::{self, Action, role_from_store, role_to_store};
use crate::auth::tokens::{API_KEY_DISPLAY_LEN, api_key_hash, new_api_key};
use crate::error::ApiError;
use crate::services::accounts::{id_tail, validate_email};
use crate::services::validation::Validator;
use crate::state::AppState;

const INVITATION_DAYS: i64 = 7;

fn summary(team: Team, role: Role) -> TeamSummary {
    TeamSummary {
        id: team.id,
        name: team.name,
        slug: team.slug,
        personal: team.personal,
        role,
    }
}

/// The caller's role in `team_id`, checked against `action`. Teams the caller is not in
/// answer 404, so their existence does not leak. An API key acts only for its own team.
pub async fn authorize(
    state: &AppState,
    who: &Principal,
    team_id: &str,
    action: Action,
) -> Result<(Team, Role), ApiError> {
    let not_found = || ApiError::not_found("no team with this id");
    if who.api_key_id.is_some() && who.team_id != team_id {
        return Err(not_found());
    }
    let membership = state
        .store
        .membership(team_id, &who.user_id)
        .await?
        .ok_or_else(not_found)?;
    let team = state
        .store
        .team_by_id(team_id)
        .await?
        .ok_or_else(not_found)?;
    let role = role_from_store(membership.role);
    require(role, &who.scopes_with(role), action)?;
    Ok((team, role))
}

pub async fn list(state: &AppState, who: &Principal) -> Result<Vec<TeamSummary>, ApiError> {
    Ok(state
        .store
        .teams_for_user(&who.user_id)
        .await?
        .into_iter()
        .filter(|(team, _)| who.api_key_id.is_none() || team.id == who.team_id)
        .map(|(team, role)| summary(team, role_from_store(role)))
        .collect())
}

fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(40).collect()
}

pub async fn create(
    state: &AppState,
    who: &Principal,
    name: &str,
) -> Result<TeamSummary, ApiError> {
    who.require_session()?;
    let mut v = Validator::default();
    v.length("name", name, 1, 64);
    v.finish()?;
    let base = slugify(name);
    let id_part = id_tail(&uuid::Uuid::now_v7().to_string());
    let slug = if base.is_empty() {
        format!("team-{}", &id_part[6..])
    } else {
        format!("{base}-{}", &id_part[6..])
    };
    let team = state
        .store
        .create_team(NewTeam {
            name: name.trim().to_owned(),
            slug,
            personal: false,
            created_by: who.user_id.clone(),
        })
        .await?;
    Ok(summary(team, Role::Owner))
}

pub async fn detail(
    state: &AppState,
    who: &Principal,
    team_id: &str,
) -> Result<TeamDetail, ApiError> {
    let (team, role) = authorize(state, who, team_id, Action::ViewTeam).await?;
    let mut members = Vec::new();
    for m in state.store.list_members(team_id).await? {
        let Some(user) = state.store.user_by_id(&m.user_id).await? else {
            continue;
        };
        members.push(MemberInfo {
            user_id: user.id,
            email: user.email,
            display_name: user.display_name,
            role: role_from_store(m.role),
            joined_at: m.created_at.to_rfc3339(),
        });
    }
    Ok(TeamDetail {
        team: summary(team, role),
        members,
    })
}

async fn member_role(state: &AppState, team_id: &str, user_id: &str) -> Result<Role, ApiError> {
    state
        .store
        .membership(team_id, user_id)
        .await?
        .map(|m| role_from_store(m.role))
        .ok_or_else(|| ApiError::not_found("this user is not a member of the team"))
}

pub async fn change_role(
    state: &AppState,
    who: &Principal,
    team_id: &str,
    user_id: &str,
    new_role: Role,
) -> Result<(), ApiError> {
    let (team, actor) = authorize(state, who, team_id, Action::ManageMembers).await?;
    if team.personal {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "a personal team has exactly one member, its owner",
        ));
    }
    let current = member_role(state, team_id, user_id).await?;
    if !policy::may_change_member(actor, current, Some(new_role)) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only an owner can change an owner or make one",
        ));
    }
    state
        .store
        .set_member_role(team_id, user_id, role_to_store(new_role))
        .await?;
    state.hot.credentials_changed();
    Ok(())
}

/// Removes a member (anyone may leave; removing others needs the right role). Their API
/// keys for the team stop working at once.
pub async fn remove_member(
    state: &AppState,
    who: &Principal,
    team_id: &str,
    user_id: &str,
) -> Result<(), ApiError> {
    let leaving = user_id == who.user_id;
    let action = if leaving {
        Action::ViewTeam
    } else {
        Action::ManageMembers
    };
    let (team, actor) = authorize(state, who, team_id, action).await?;
    if team.personal {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "nobody can leave a personal team",
        ));
    }
    let current = member_role(state, team_id, user_id).await?;
    if !leaving && !policy::may_change_member(actor, current, None) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only an owner can remove an owner",
        ));
    }
    state.store.remove_member(team_id, user_id).await?;
    state
        .store
        .revoke_api_keys_for_user_in_team(user_id, team_id, Utc::now())
        .await?;
    state.hot.credentials_changed();
    Ok(())
}

pub async fn delete(state: &AppState, who: &Principal, team_id: &str) -> Result<(), ApiError> {
    let (team, _) = authorize(state, who, team_id, Action::OwnTeam).await?;
    if team.personal {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "a personal team is deleted with its account",
        ));
    }
    state.store.delete_team(team_id).await?;
    state.hot.credentials_changed();
    Ok(())
}

fn invitation_info(inv: Invitation, team_name: &str) -> InvitationInfo {
    let now = Utc::now();
    let status = if inv.accepted_at.is_some() {
        "accepted"
    } else if inv.revoked_at.is_some() {
        "revoked"
    } else if inv.expires_at <= now {
        "expired"
    } else {
        "pending"
    };
    InvitationInfo {
        id: inv.id,
        team_id: inv.team_id,
        team_name: team_name.to_owned(),
        email: inv.email,
        role: role_from_store(inv.role),
        invited_by: inv.invited_by,
        created_at: inv.created_at.to_rfc3339(),
        expires_at: inv.expires_at.to_rfc3339(),
        status: status.to_owned(),
    }
}

pub async fn invite(
    state: &AppState,
    who: &Principal,
    team_id: &str,
    req: InviteRequest,
) -> Result<InvitationInfo, ApiError> {
    let (team, actor) = authorize(state, who, team_id, Action::ManageMembers).await?;
    if team.personal {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "create a team to invite people; a personal team is yours alone",
        ));
    }
    let mut v = Validator::default();
    validate_email(&mut v, "email", &req.email);
    v.finish()?;
    if !policy::may_invite(actor, req.role) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only an owner can invite another owner",
        ));
    }
    let inv = state
        .store
        .create_invitation(NewInvitation {
            team_id: team_id.to_owned(),
            email: req.email.trim().to_owned(),
            role: role_to_store(req.role),
            invited_by: who.user_id.clone(),
            expires_at: Utc::now() + chrono::Duration::days(INVITATION_DAYS),
        })
        .await?;
    Ok(invitation_info(inv, &team.name))
}

pub async fn invitations(
    state: &AppState,
    who: &Principal,
    team_id: &str,
) -> Result<Vec<InvitationInfo>, ApiError> {
    let (team, _) = authorize(state, who, team_id, Action::ManageMembers).await?;
    Ok(state
        .store
        .invitations_for_team(team_id)
        .await?
        .into_iter()
        .map(|inv| invitation_info(inv, &team.name))
        .collect())
}

pub async fn revoke_invitation(
    state: &AppState,
    who: &Principal,
    team_id: &str,
    id: &str,
) -> Result<(), ApiError> {
    authorize(state, who, team_id, Action::ManageMembers).await?;
    let belongs = state
        .store
        .invitation_by_id(id)
        .await?
        .is_some_and(|i| i.team_id == team_id);
    if !belongs || !state.store.revoke_invitation(id, Utc::now()).await? {
        return Err(ApiError::not_found("no pending invitation with this id"));
    }
    Ok(())
}

/// Invitations waiting for the caller's e-mail address.
pub async fn my_invitations(
    state: &AppState,
    who: &Principal,
) -> Result<Vec<InvitationInfo>, ApiError> {
    who.require_session()?;
    let user = crate::services::accounts::user(state, &who.user_id).await?;
    let mut out = Vec::new();
    for inv in state
        .store
        .pending_invitations_for_email(&user.email, Utc::now())
        .await?
    {
        let name = state
            .store
            .team_by_id(&inv.team_id)
            .await?
            .map(|t| t.name)
            .unwrap_or_default();
        out.push(invitation_info(inv, &name));
    }
    Ok(out)
}

pub async fn accept_invitation(
    state: &AppState,
    who: &Principal,
    id: &str,
) -> Result<TeamSummary, ApiError> {
    who.require_session()?;
    let membership = state
        .store
        .accept_invitation(id, &who.user_id, Utc::now())
        .await?;
    let team = state
        .store
        .team_by_id(&membership.team_id)
        .await?
        .ok_or_else(|| ApiError::not_found("the team no longer exists"))?;
    Ok(summary(team, role_from_store(membership.role)))
}

fn key_info(key: ApiKey) -> ApiKeyInfo {
    let now = Utc::now();
    ApiKeyInfo {
        revoked: !key.is_usable(now),
        id: key.id,
        name: key.name,
        prefix: key.prefix,
        scopes: key.scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
        team_id: key.team_id,
        created_at: key.created_at.to_rfc3339(),
        expires_at: key.expires_at.map(|t| t.to_rfc3339()),
        last_used_at: key.last_used_at.map(|t| t.to_rfc3339()),
    }
}

pub async fn create_key(
    state: &AppState,
    who: &Principal,
    req: CreateApiKeyRequest,
) -> Result<CreatedApiKey, ApiError> {
    who.require_session()?;
    let mut v = Validator::default();
    v.length("name", &req.name, 1, 64);
    if req.scopes.is_empty() {
        v.error(
            "scopes",
            "choose at least one of read, inference, deploy, admin",
        );
    }
    if let Some(days) = req.expires_in_days
        && !(1..=3650).contains(&days)
    {
        v.error("expires_in_days", "must be between 1 and 3650");
    }
    v.finish()?;
    let team_id = req.team_id.clone().unwrap_or_else(|| who.team_id.clone());
    let (_, role) = authorize(state, who, &team_id, Action::ViewTeam).await?;
    let allowed = policy::role_scopes(role);
    let wanted: BTreeSet<Scope> = req.scopes.iter().copied().collect();
    let excess: Vec<&str> = wanted.difference(&allowed).map(|s| s.as_str()).collect();
    if !excess.is_empty() {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "your role ({}) cannot grant: {}",
                role.as_str(),
                excess.join(", ")
            ),
        ));
    }
    let key = new_api_key();
    let stored = state
        .store
        .create_api_key(NewApiKey {
            user_id: who.user_id.clone(),
            team_id,
            name: req.name.trim().to_owned(),
            prefix: key.chars().take(API_KEY_DISPLAY_LEN).collect(),
            key_hash: api_key_hash(&key),
            scopes: wanted.iter().map(|s| s.as_str().to_owned()).collect(),
            expires_at: req
                .expires_in_days
                .map(|d| Utc::now() + chrono::Duration::days(i64::from(d))),
        })
        .await?;
    tracing::info!(user_id = %who.user_id, key_id = %stored.id, "API key created");
    Ok(CreatedApiKey {
        key,
        api_key: key_info(stored),
    })
}

pub async fn keys(state: &AppState, who: &Principal) -> Result<Vec<ApiKeyInfo>, ApiError> {
    who.require_session()?;
    Ok(state
        .store
        .list_api_keys_for_user(&who.user_id)
        .await?
        .into_iter()
        .map(key_info)
        .collect())
}

pub async fn revoke_key(state: &AppState, who: &Principal, id: &str) -> Result<(), ApiError> {
    who.require_session()?;
    if !state
        .store
        .revoke_api_key(id, &who.user_id, Utc::now())
        .await?
    {
        return Err(ApiError::not_found("no active API key with this id"));
    }
    tracing::info!(user_id = %who.user_id, key_id = id, "API key revoked");
    state.hot.credentials_changed();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_are_plain() {
        assert_eq!(slugify("ML Platform — Europe!"), "ml-platform-europe");
        assert_eq!(slugify("$where: {\"$ne\": 1}"), "where-ne-1");
        assert_eq!(slugify("   "), "");
    }
}
