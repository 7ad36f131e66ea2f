//! What a role may do, mirrored from the server (`backend/src/auth/policy.rs`) so the
//! app offers only what will be accepted. The server still decides every request.

use hfb_shared::auth::{Role, Scope};

/// The scopes a key created by someone with `role` may carry.
pub fn role_scopes(role: Role) -> Vec<Scope> {
    match role {
        Role::Viewer => vec![Scope::Read],
        Role::Member => vec![Scope::Read, Scope::Inference, Scope::Deploy],
        Role::Admin | Role::Owner => Scope::ALL.to_vec(),
    }
}

/// Whether `actor` manages members at all (invite, change roles, remove).
pub fn manages_members(actor: Role) -> bool {
    actor >= Role::Admin
}

/// Whether `actor` may move a member from `current` to `new` (`None`: remove them).
/// Admins manage members and viewers and may make admins; only owners touch owners.
pub fn may_change_member(actor: Role, current: Role, new: Option<Role>) -> bool {
    if !manages_members(actor) {
        return false;
    }
    let touches_owner = current == Role::Owner || new == Some(Role::Owner);
    !touches_owner || actor == Role::Owner
}

/// The roles `actor` may give someone who has `current` now (including `current`).
pub fn assignable_roles(actor: Role, current: Role) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| *r == current || may_change_member(actor, current, Some(*r)))
        .collect()
}

/// The roles `actor` may invite someone with.
pub fn invitable_roles(actor: Role) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| may_change_member(actor, Role::Viewer, Some(*r)))
        .collect()
}

pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Owner => "Owner",
        Role::Admin => "Admin",
        Role::Member => "Member",
        Role::Viewer => "Viewer",
    }
}

pub fn scope_label(scope: Scope) -> &'static str {
    match scope {
        Scope::Read => "Read",
        Scope::Inference => "Inference",
        Scope::Deploy => "Deploy",
        Scope::Admin => "Admin",
    }
}

pub fn scope_description(scope: Scope) -> &'static str {
    match scope {
        Scope::Read => "See the catalog, deployments and usage",
        Scope::Inference => "Call models on running deployments",
        Scope::Deploy => "Create, change and delete deployments",
        Scope::Admin => "Manage members, invitations and settings",
    }
}

/// The least role that may grant `scope`.
pub fn scope_min_role(scope: Scope) -> Role {
    match scope {
        Scope::Read => Role::Viewer,
        Scope::Inference | Scope::Deploy => Role::Member,
        Scope::Admin => Role::Admin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::*;

    #[test]
    fn mirrors_the_server_policy() {
        assert_eq!(role_scopes(Viewer), vec![Scope::Read]);
        assert_eq!(role_scopes(Owner), Scope::ALL.to_vec());
        for role in Role::ALL {
            for scope in Scope::ALL {
                assert_eq!(
                    role_scopes(role).contains(&scope),
                    role >= scope_min_role(scope),
                    "{role:?} {scope:?}"
                );
            }
        }
        assert!(may_change_member(Admin, Member, Some(Admin)));
        assert!(!may_change_member(Admin, Owner, Some(Member)));
        assert!(!may_change_member(Admin, Member, Some(Owner)));
        assert!(may_change_member(Owner, Owner, Some(Admin)));
        assert!(!may_change_member(Member, Viewer, Some(Member)));
        assert_eq!(invitable_roles(Admin), vec![Admin, Member, Viewer]);
        assert_eq!(invitable_roles(Owner), Role::ALL.to_vec());
        assert!(invitable_roles(Member).is_empty());
        assert_eq!(assignable_roles(Admin, Owner), vec![Owner]);
        assert_eq!(assignable_roles(Admin, Viewer), vec![Admin, Member, Viewer]);
    }
}
