//! Who may do what: the one place where roles, scopes and actions meet. Handlers ask
//! `principal.require(Action::...)`; nothing else compares roles.

use std::collections::BTreeSet;

use hfb_shared::auth::{Role, Scope};

/// Everything the API lets a principal do to a team's resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See the team, its members, deployments, usage, catalog.
    ViewTeam,
    /// Call inference on the team's deployments.
    CallInference,
    /// Create, change, pause and delete deployments.
    ManageDeployments,
    /// Invite, remove and change the roles of members (not owners, unless owner).
    ManageMembers,
    /// Rename or delete the team, make or remove owners.
    OwnTeam,
}

impl Action {
    /// The scope a token or API key must carry for this action.
    pub fn scope(self) -> Scope {
        match self {
            Self::ViewTeam => Scope::Read,
            Self::CallInference => Scope::Inference,
            Self::ManageDeployments => Scope::Deploy,
            Self::ManageMembers | Self::OwnTeam => Scope::Admin,
        }
    }

    /// The least role allowed to do it.
    pub fn min_role(self) -> Role {
        match self {
            Self::ViewTeam => Role::Viewer,
            Self::CallInference | Self::ManageDeployments => Role::Member,
            Self::ManageMembers => Role::Admin,
            Self::OwnTeam => Role::Owner,
        }
    }
}

pub fn role_allows(role: Role, action: Action) -> bool {
    role >= action.min_role()
}

/// The scopes a role can use at all; a session gets all of them, an API key the
/// intersection with the scopes it was created with.
pub fn role_scopes(role: Role) -> BTreeSet<Scope> {
    [
        Action::ViewTeam,
        Action::CallInference,
        Action::ManageDeployments,
        Action::ManageMembers,
    ]
    .into_iter()
    .filter(|a| role_allows(role, *a))
    .map(Action::scope)
    .collect()
}

/// Whether `actor` may move a member from `current` to `new` (or remove them: `new = None`).
/// Admins manage members and viewers and may make admins; only owners touch owners.
pub fn may_change_member(actor: Role, current: Role, new: Option<Role>) -> bool {
    if !role_allows(actor, Action::ManageMembers) {
        return false;
    }
    let touches_owner = current == Role::Owner || new == Some(Role::Owner);
    !touches_owner || actor == Role::Owner
}

/// Whether `actor` may invite someone with `role`.
pub fn may_invite(actor: Role, role: Role) -> bool {
    may_change_member(actor, Role::Viewer, Some(role))
}

pub fn role_from_store(role: hfb_store::TeamRole) -> Role {
    match role {
        hfb_store::TeamRole::Owner => Role::Owner,
        hfb_store::TeamRole::Admin => Role::Admin,
        hfb_store::TeamRole::Member => Role::Member,
        hfb_store::TeamRole::Viewer => Role::Viewer,
    }
}

pub fn role_to_store(role: Role) -> hfb_store::TeamRole {
    match role {
        Role::Owner => hfb_store::TeamRole::Owner,
        Role::Admin => hfb_store::TeamRole::Admin,
        Role::Member => hfb_store::TeamRole::Member,
        Role::Viewer => hfb_store::TeamRole::Viewer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;
    use Role::*;

    #[test]
    fn each_role_can_do_exactly_its_actions() {
        let table = [
            (Viewer, [true, false, false, false, false]),
            (Member, [true, true, true, false, false]),
            (Admin, [true, true, true, true, false]),
            (Owner, [true, true, true, true, true]),
        ];
        for (role, expected) in table {
            let got = [
                ViewTeam,
                CallInference,
                ManageDeployments,
                ManageMembers,
                OwnTeam,
            ]
            .map(|a| role_allows(role, a));
            assert_eq!(got, expected, "{role:?}");
        }
    }

    #[test]
    fn role_scopes_follow_the_actions() {
        assert_eq!(role_scopes(Viewer), BTreeSet::from([Scope::Read]));
        assert_eq!(
            role_scopes(Member),
            BTreeSet::from([Scope::Read, Scope::Inference, Scope::Deploy])
        );
        assert_eq!(role_scopes(Admin), BTreeSet::from(Scope::ALL));
        assert_eq!(role_scopes(Owner), BTreeSet::from(Scope::ALL));
    }

    #[test]
    fn only_owners_touch_owners() {
        assert!(may_change_member(Admin, Member, Some(Admin)));
        assert!(may_change_member(Admin, Viewer, None));
        assert!(!may_change_member(Admin, Owner, Some(Member)));
        assert!(!may_change_member(Admin, Member, Some(Owner)));
        assert!(may_change_member(Owner, Owner, Some(Admin)));
        assert!(!may_change_member(Member, Viewer, Some(Member)));
        assert!(may_invite(Admin, Admin) && !may_invite(Admin, Owner) && may_invite(Owner, Owner));
        assert!(!may_invite(Viewer, Viewer));
    }
}
