//! Who may do what. A bearer token (a JWT an OIDC identity provider signed, verified against a
//! JWKS file) proves an [`Identity`]; [`METHODS`] is the one table from RPC method to the
//! scopes that allow it, and [`Identity::may_call`] / [`Identity::may_update_stock`] are the
//! only two decisions. No tonic here: `grpc/auth.rs` applies them to every call of every
//! service, so the service has one authorisation and no face that skips it.

mod jwks;
pub mod keys;
mod verify;

pub use jwks::{Alg, KeySet, JWKS_BYTES_MAX, JWKS_KEYS_MAX, RSA_BITS_MAX, RSA_BITS_MIN};
pub use verify::{
    bearer_token, unix_now, Verifier, VerifierConfig, CACHE_ENTRIES_MAX, JWKS_POLL_INTERVAL,
    LEEWAY_SECONDS, SUB_BYTES_MAX, SUPPLIER_CLAIM_IDS_MAX, TOKEN_BYTES_MAX,
};

use crate::domain::Id;
use crate::error::Error;

/// A right a token can carry, named as it appears in the `scope` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// CatalogService, Match, Shortlist, GetHold, ListHolds, ListActiveAlerts, EdxlService.
    Read,
    /// RunDrill, and everything `Read` allows.
    Drill,
    /// PlaceHold, ConfirmHold, ReleaseHold, IngestAlert, and everything `Read` allows.
    Dispatch,
    /// UpdateStock, only for lines of the suppliers in the `equipmatch_supplier` claim.
    Stock,
    /// Everything.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 5] =
        [Scope::Read, Scope::Drill, Scope::Dispatch, Scope::Stock, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "equipmatch.read",
            Scope::Drill => "equipmatch.drill",
            Scope::Dispatch => "equipmatch.dispatch",
            Scope::Stock => "equipmatch.stock",
            Scope::Admin => "equipmatch.admin",
        }
    }

    /// The scope a claim entry names; `None` for anybody else's scopes (`openid`, `email`, …),
    /// which a token from a shared identity provider carries and we ignore.
    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == text)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scopes(u8);

impl Scopes {
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn insert(&mut self, scope: Scope) {
        self.0 |= scope.bit();
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |scope| self.contains(*scope))
    }

    /// Space-separated, as in a `scope` claim; `(none)` when empty.
    pub fn to_claim(self) -> String {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        if names.is_empty() {
            "(none)".into()
        } else {
            names.join(" ")
        }
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Scopes {
        let mut scopes = Scopes::default();
        for scope in iter {
            scopes.insert(scope);
        }
        scopes
    }
}

/// What a method needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token needed: health checks and server reflection.
    Open,
    /// A verified token with any one of these scopes.
    AnyOf(&'static [Scope]),
}

const READ: &[Scope] = &[Scope::Read, Scope::Drill, Scope::Dispatch, Scope::Admin];
const DRILL: &[Scope] = &[Scope::Drill, Scope::Admin];
const DISPATCH: &[Scope] = &[Scope::Dispatch, Scope::Admin];
const STOCK: &[Scope] = &[Scope::Stock, Scope::Admin];
const ADMIN: &[Scope] = &[Scope::Admin];

/// THE table: every RPC of the contract and the scopes that allow it (any one of them). A
/// test holds it to the contract's descriptor set, both ways; a method missing here needs
/// `equipmatch.admin` (deny by default).
pub const METHODS: &[(&str, &[Scope])] = &[
    ("/equipmatch.v1.CatalogService/ListScenarios", READ),
    ("/equipmatch.v1.CatalogService/GetScenario", READ),
    ("/equipmatch.v1.CatalogService/ListCategories", READ),
    ("/equipmatch.v1.CatalogService/ListSuppliers", READ),
    ("/equipmatch.v1.CatalogService/GetSupplier", READ),
    ("/equipmatch.v1.CatalogService/ListPlaces", READ),
    ("/equipmatch.v1.MatchService/Match", READ),
    ("/equipmatch.v1.MatchService/Shortlist", READ),
    ("/equipmatch.v1.HoldService/GetHold", READ),
    ("/equipmatch.v1.HoldService/ListHolds", READ),
    ("/equipmatch.v1.AlertService/ListActiveAlerts", READ),
    // EDXL-RM out and in: documents computed from a Match or a hold, nothing stored.
    ("/equipmatch.v1.EdxlService/ExportRequestResource", READ),
    ("/equipmatch.v1.EdxlService/ExportCommitResource", READ),
    ("/equipmatch.v1.EdxlService/ImportRequestResource", READ),
    ("/equipmatch.v1.DrillService/RunDrill", DRILL),
    ("/equipmatch.v1.HoldService/PlaceHold", DISPATCH),
    ("/equipmatch.v1.HoldService/ConfirmHold", DISPATCH),
    ("/equipmatch.v1.HoldService/ReleaseHold", DISPATCH),
    // An alert can pre-position stock (`serve --preposition` places holds) and release the
    // holds of the alerts it updates or cancels: dispatch's right.
    ("/equipmatch.v1.AlertService/IngestAlert", DISPATCH),
    // Line by line, the supplier claim decides too: `Identity::may_update_stock`.
    ("/equipmatch.v1.HoldService/UpdateStock", STOCK),
];

/// Services anyone may call: a load balancer's health check carries no token, and reflection
/// describes the contract, which is public.
pub const OPEN_SERVICES: &[&str] = &[
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// What the method at this HTTP/2 path (`/package.Service/Method`) needs.
pub fn access(path: &str) -> Access {
    let service = path.strip_prefix('/').and_then(|rest| rest.split_once('/')).map(|(s, _)| s);
    if service.is_some_and(|service| OPEN_SERVICES.contains(&service)) {
        return Access::Open;
    }
    match METHODS.iter().find(|(method, _)| *method == path) {
        Some((_, scopes)) => Access::AnyOf(scopes),
        None => Access::AnyOf(ADMIN),
    }
}

/// Who a verified token says the caller is, and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The token's `sub`: printable ASCII without spaces, at most `SUB_BYTES_MAX` bytes.
    pub sub: String,
    pub scopes: Scopes,
    /// The `equipmatch_supplier` claim: the suppliers whose stock this caller may set.
    pub suppliers: Vec<Id>,
    /// The token's `exp` (Unix seconds).
    pub expires_at: u64,
}

impl Identity {
    /// May this identity call the method at `path`? PERMISSION_DENIED names the scopes that
    /// would allow it.
    pub fn may_call(&self, path: &str) -> Result<(), Error> {
        match access(path) {
            Access::Open => Ok(()),
            Access::AnyOf(allowed) if allowed.iter().any(|s| self.scopes.contains(*s)) => Ok(()),
            Access::AnyOf(allowed) => {
                let required: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
                Err(Error::PermissionDenied {
                    reason: "SCOPE_MISSING",
                    description: format!(
                        "{path} needs one of the scopes {}; the token of {:?} has {}",
                        required.join(", "),
                        self.sub,
                        self.scopes.to_claim()
                    ),
                    metadata: vec![
                        ("method", path.to_owned()),
                        ("required_scopes", required.join(" ")),
                        ("granted_scopes", self.scopes.to_claim()),
                    ],
                })
            }
        }
    }

    /// May this identity set the stock of these suppliers' lines? `equipmatch.admin` may set
    /// any; `equipmatch.stock` only those named in its supplier claim. The first supplier not
    /// granted is named in the refusal.
    pub fn may_update_stock<'a>(
        &self,
        supplier_ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Error> {
        if self.scopes.contains(Scope::Admin) {
            return Ok(());
        }
        let granted = self.granted_suppliers();
        for supplier_id in supplier_ids {
            let allowed = self.scopes.contains(Scope::Stock)
                && self.suppliers.iter().any(|id| id.as_str() == supplier_id);
            if !allowed {
                return Err(Error::PermissionDenied {
                    reason: "SUPPLIER_NOT_GRANTED",
                    description: format!(
                        "the token of {:?} may set the stock of {granted}, not of supplier {supplier_id:?}",
                        self.sub
                    ),
                    metadata: vec![
                        ("supplier_id", supplier_id.to_owned()),
                        ("granted_suppliers", granted.clone()),
                    ],
                });
            }
        }
        Ok(())
    }

    fn granted_suppliers(&self) -> String {
        if self.suppliers.is_empty() {
            "no supplier".into()
        } else {
            self.suppliers.iter().map(Id::as_str).collect::<Vec<_>>().join(" ")
        }
    }

    /// The actor the audit trail records for a hold command: the token's subject.
    pub fn actor(&self) -> String {
        format!("sub={}", self.sub)
    }

    /// The actor for a stock update. Under `equipmatch.stock`, the subject and the suppliers
    /// it acted for (those of the updated lines, all in its claim), kept within `budget`
    /// bytes (`+N` counts the rest); under `equipmatch.admin` the claim played no part, so
    /// the subject alone.
    pub fn stock_actor<'a>(
        &self,
        suppliers: impl IntoIterator<Item = &'a str>,
        budget: usize,
    ) -> String {
        let mut distinct: Vec<&str> = suppliers.into_iter().collect();
        distinct.sort_unstable();
        distinct.dedup();
        let mut actor = self.actor();
        if distinct.is_empty() || self.scopes.contains(Scope::Admin) {
            return actor;
        }
        actor.push_str(" supplier=");
        for (i, supplier) in distinct.iter().enumerate() {
            let separator = if i == 0 { "" } else { "," };
            let rest = distinct.len() - i - 1;
            // Room for this id and, if more follow, the "+N" that would stand for them.
            let tail = if rest == 0 { 0 } else { 1 + rest.to_string().len() + 1 };
            if actor.len() + separator.len() + supplier.len() + tail > budget {
                actor.push_str(&format!("+{}", distinct.len() - i));
                return actor;
            }
            actor.push_str(separator);
            actor.push_str(supplier);
        }
        actor
    }
}

/// Who is calling, as the transport established it; put on every call by `grpc/auth.rs`.
#[derive(Debug, Clone)]
pub enum Principal {
    /// Authentication is off (`serve` without `--jwks`): callers name themselves.
    Unverified,
    /// A token verified against the JWKS.
    Verified(std::sync::Arc<Identity>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(scopes: &[Scope], suppliers: &[&str]) -> Identity {
        Identity {
            sub: "alice".into(),
            scopes: scopes.iter().copied().collect(),
            suppliers: suppliers.iter().map(|s| Id::parse(s).unwrap()).collect(),
            expires_at: u64::MAX,
        }
    }

    #[test]
    fn open_services_need_nothing_and_unknown_methods_need_admin() {
        assert_eq!(access("/grpc.health.v1.Health/Check"), Access::Open);
        assert_eq!(
            access("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"),
            Access::Open
        );
        assert_eq!(access("/equipmatch.v1.HoldService/Nope"), Access::AnyOf(ADMIN));
        assert_eq!(access("/grpc.health.v1.Healthy/Check"), Access::AnyOf(ADMIN));
        assert_eq!(access("grpc.health.v1.Health/Check"), Access::AnyOf(ADMIN));
        assert_eq!(access(""), Access::AnyOf(ADMIN));
    }

    #[test]
    fn each_scope_allows_what_the_issue_says() {
        let place = "/equipmatch.v1.HoldService/PlaceHold";
        let drill = "/equipmatch.v1.DrillService/RunDrill";
        let read = "/equipmatch.v1.MatchService/Match";
        let stock = "/equipmatch.v1.HoldService/UpdateStock";
        let may = |scopes: &[Scope], path| identity(scopes, &[]).may_call(path).is_ok();
        assert!(may(&[Scope::Read], read) && !may(&[Scope::Read], place));
        assert!(may(&[Scope::Drill], drill) && may(&[Scope::Drill], read));
        assert!(!may(&[Scope::Drill], place) && !may(&[Scope::Dispatch], drill));
        assert!(may(&[Scope::Dispatch], place) && may(&[Scope::Dispatch], read));
        assert!(may(&[Scope::Stock], stock) && !may(&[Scope::Stock], read));
        assert!(!may(&[Scope::Dispatch], stock));
        assert!([read, place, drill, stock, "/x.Y/Z"].iter().all(|p| may(&[Scope::Admin], p)));
        assert!(!may(&[], read));
    }

    #[test]
    fn a_refusal_names_the_missing_scope() {
        let Err(Error::PermissionDenied { reason, metadata, .. }) =
            identity(&[Scope::Read], &[]).may_call("/equipmatch.v1.HoldService/PlaceHold")
        else {
            panic!("read may not place holds");
        };
        assert_eq!(reason, "SCOPE_MISSING");
        assert!(
            metadata.contains(&("required_scopes", "equipmatch.dispatch equipmatch.admin".into()))
        );
    }

    #[test]
    fn stock_is_only_for_the_claimed_suppliers() {
        let stock = identity(&[Scope::Stock], &["sup-1", "sup-2"]);
        assert!(stock.may_update_stock(["sup-1", "sup-2"]).is_ok());
        let Err(Error::PermissionDenied { reason, metadata, .. }) =
            stock.may_update_stock(["sup-1", "sup-3"])
        else {
            panic!("sup-3 is not in the claim");
        };
        assert_eq!(reason, "SUPPLIER_NOT_GRANTED");
        assert_eq!(metadata[0], ("supplier_id", "sup-3".into()));
        // A supplier claim without the stock scope grants nothing; admin needs no claim.
        assert!(identity(&[Scope::Dispatch], &["sup-1"]).may_update_stock(["sup-1"]).is_err());
        assert!(identity(&[Scope::Admin], &[]).may_update_stock(["sup-9"]).is_ok());
    }

    #[test]
    fn the_longest_actors_still_fit_the_audit_trail() {
        use crate::holds::{Caller, CALLER_BYTES_MAX};
        let longest = Identity { sub: "~".repeat(SUB_BYTES_MAX), ..identity(&[Scope::Stock], &[]) };
        assert!(Caller::parse(&longest.actor()).is_some());
        let id = "s".repeat(64); // ID_BYTES_MAX, the longest supplier id
        let ids = [id.as_str(), "a", "b"];
        let actor = longest.stock_actor(ids, CALLER_BYTES_MAX);
        assert!(Caller::parse(&actor).is_some(), "{actor}");
    }

    #[test]
    fn the_stock_actor_stays_within_its_budget() {
        let stock = identity(&[Scope::Stock], &[]);
        assert_eq!(stock.stock_actor(["b", "a", "b"], 128), "sub=alice supplier=a,b");
        assert_eq!(stock.stock_actor([], 128), "sub=alice");
        assert_eq!(
            identity(&[Scope::Admin, Scope::Stock], &["a"]).stock_actor(["a"], 128),
            "sub=alice"
        );
        let many: Vec<String> = (0..40).map(|i| format!("sup-{i:05}")).collect();
        let actor = stock.stock_actor(many.iter().map(String::as_str), 128);
        assert!(actor.len() <= 128, "{actor}");
        assert!(actor.starts_with("sub=alice supplier=sup-00000,sup-00001,"), "{actor}");
        let shown = actor.matches("sup-").count();
        assert!(actor.ends_with(&format!("+{}", 40 - shown)), "{actor}");
    }
}
