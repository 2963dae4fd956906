//! Who a Sysdig request comes from: a Monitor API token names a (user, team); an IAM token
//! from our `/identity/token` names a user, and the team comes from `SysdigTeamID`/`TeamID` or
//! is the user's default Monitor team.

use axum::{
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
};
use config_repo::sysdig::{SysdigTx, Team, User};

use crate::{
    IamLookup, SysdigState,
    domain::{ROLE_TEAM_MANAGER, ROLE_TEAM_READ},
    error::{SdcError, SdcResult},
};

/// The authenticated caller of a request and the team it acts in.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: User,
    pub team: Team,
    /// The caller's role in `team`.
    pub team_role: String,
    /// Whether the caller came with an IAM token.
    pub iam: bool,
}

impl Caller {
    pub fn team_id(&self) -> i64 {
        self.team.id
    }

    pub fn is_admin(&self) -> bool {
        self.user.is_admin()
    }

    /// User management and creating/deleting teams: customer admins only.
    pub fn require_admin(&self) -> SdcResult<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(SdcError::forbidden(
                "Not enough privileges to complete the action: an administrator is required",
            ))
        }
    }

    /// Changing team-owned objects: anyone but read-only members.
    pub fn require_write(&self) -> SdcResult<()> {
        if self.team_role == ROLE_TEAM_READ {
            Err(SdcError::forbidden(
                "Not enough privileges to complete the action: the team role is read-only",
            ))
        } else {
            Ok(())
        }
    }

    /// Managing team `team`: customer admins and that team's managers.
    pub fn require_team_manager(&self, c: &dyn SysdigTx, team: i64) -> SdcResult<()> {
        if self.is_admin()
            || c.membership(team, self.user.id)?.as_deref() == Some(ROLE_TEAM_MANAGER)
        {
            Ok(())
        } else {
            Err(SdcError::forbidden(
                "Not enough privileges to complete the action: a team manager is required",
            ))
        }
    }
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The credential of `Authorization`, with or without the `Bearer ` prefix.
fn bearer(parts: &Parts) -> Option<String> {
    let raw = header(parts, "authorization")?;
    let token = match raw.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => raw,
    };
    (!token.is_empty()).then(|| token.to_string())
}

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    SysdigState: FromRef<S>,
{
    type Rejection = SdcError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> SdcResult<Self> {
        let caller = identify(parts, &SysdigState::from_ref(state)).await?;
        // The access log names the team a request acts in (never the token).
        vigil_http::access_log::record_tenant(parts, &format!("team:{}", caller.team.id));
        Ok(caller)
    }
}

/// The caller that the request's credentials stand for, or Sysdig's refusal.
async fn identify(parts: &Parts, sysdig: &SysdigState) -> SdcResult<Caller> {
    let path = parts.uri.path().to_string();
    let unauthorized = || SdcError::Unauthorized { path: path.clone() };
    let Some(token) = bearer(parts) else {
        return Err(unauthorized());
    };
    if let Some((status, retry_after)) = sysdig.take_fault(parts.method.as_str(), &path) {
        return Err(SdcError::Fault {
            status: axum::http::StatusCode::from_u16(status)
                .unwrap_or(axum::http::StatusCode::SERVICE_UNAVAILABLE),
            retry_after,
        });
    }
    match sysdig.iam_lookup(&token) {
        IamLookup::Expired => Err(unauthorized()),
        IamLookup::User(user_id) => {
            if header(parts, "ibminstanceid") != Some(sysdig.settings.instance_id.as_str()) {
                return Err(unauthorized());
            }
            let wanted = match header(parts, "sysdigteamid").or(header(parts, "teamid")) {
                None => None,
                Some(t) => Some(
                    t.parse::<i64>()
                        .map_err(|_| SdcError::bad_request(format!("Invalid team id '{t}'")))?,
                ),
            };
            let caller = sysdig
                .read(move |c| {
                    let Some(user) = c.user(user_id)? else {
                        return Ok(None);
                    };
                    let memberships = c.user_teams(user.id)?;
                    let (team_id, role) = match wanted {
                        Some(t) => match memberships.into_iter().find(|(id, _)| *id == t) {
                            Some(m) => m,
                            None => {
                                return Err(SdcError::forbidden(format!(
                                    "User '{}' is not a member of team {t}",
                                    user.username
                                )));
                            }
                        },
                        None => {
                            let monitor = c.default_team("SDC")?.map(|t| t.id);
                            let pick = memberships
                                .iter()
                                .find(|(id, _)| Some(*id) == monitor)
                                .or_else(|| memberships.first())
                                .cloned();
                            match pick {
                                Some(m) => m,
                                None => {
                                    return Err(SdcError::forbidden(format!(
                                        "User '{}' is not a member of any team",
                                        user.username
                                    )));
                                }
                            }
                        }
                    };
                    let Some(team) = c.team(team_id)? else {
                        return Ok(None);
                    };
                    Ok(Some(Caller {
                        user,
                        team,
                        team_role: role,
                        iam: true,
                    }))
                })
                .await?;
            caller.ok_or_else(unauthorized)
        }
        IamLookup::Unknown => {
            let caller = sysdig
                .read(move |c| {
                    let Some((user_id, team_id)) = c.token_owner(&token)? else {
                        return Ok(None);
                    };
                    let (Some(user), Some(team), Some(role)) = (
                        c.user(user_id)?,
                        c.team(team_id)?,
                        c.membership(team_id, user_id)?,
                    ) else {
                        return Ok(None);
                    };
                    Ok(Some(Caller {
                        user,
                        team,
                        team_role: role,
                        iam: false,
                    }))
                })
                .await?;
            caller.ok_or_else(unauthorized)
        }
    }
}
