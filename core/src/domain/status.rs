//! The invoice status as Stripe names it, shared by the domain state machine, the wire
//! models, the offline ledger and the host's mirror of each invoice; and the state
//! machine itself: which [`InvoiceAction`] each status allows ([`InvoiceStatus::apply`])
//! and which status a webhook may replace with which ([`InvoiceStatus::may_move_to`]).
//!
//! ```text
//!   draft ──finalize──▶ open ──pay / mark paid out of band──▶ paid
//!     │                  │ ╲──void──────────────────────────▶ void
//!     └──delete──▶ (gone) ╲──mark uncollectible──▶ uncollectible ──pay──▶ paid
//!                                                      └──void──▶ void
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::classify::{Classify, ErrorCategory};

/// Where an invoice is in its life. Stripe may add statuses: an unrecognised value is
/// kept in [`InvoiceStatus::Unknown`] instead of failing to decode.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum InvoiceStatus {
    /// Editable; not yet visible to the payer.
    Draft,
    /// Finalized and awaiting payment.
    Open,
    /// Paid, by card or marked paid outside Stripe.
    Paid,
    /// Cancelled after finalization; nothing is owed.
    Void,
    /// Written off as unlikely to be paid; can still be paid or voided.
    Uncollectible,
    /// A draft that was deleted: the invoice no longer exists in Stripe. Stripe has no
    /// such status (it answers 404 and sends `invoice.deleted`); billbridge records it
    /// so the host knows, and only a new raise of the host invoice replaces it.
    Deleted,
    /// A status this version of billbridge does not know yet, as Stripe sent it.
    Unknown(String),
}

impl InvoiceStatus {
    /// The status as Stripe spells it.
    pub fn as_str(&self) -> &str {
        match self {
            InvoiceStatus::Draft => "draft",
            InvoiceStatus::Open => "open",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Void => "void",
            InvoiceStatus::Uncollectible => "uncollectible",
            InvoiceStatus::Deleted => "deleted",
            InvoiceStatus::Unknown(other) => other,
        }
    }
}

impl From<String> for InvoiceStatus {
    fn from(value: String) -> Self {
        match value.as_str() {
            "draft" => InvoiceStatus::Draft,
            "open" => InvoiceStatus::Open,
            "paid" => InvoiceStatus::Paid,
            "void" => InvoiceStatus::Void,
            "uncollectible" => InvoiceStatus::Uncollectible,
            "deleted" => InvoiceStatus::Deleted,
            _ => InvoiceStatus::Unknown(value),
        }
    }
}

/// The words a host may name a status with: Stripe's five and `deleted`. Decoding what
/// Stripe sends stays forward-compatible (`From<String>`); parsing what a host asks for
/// (a report filter, say) is strict, so a typo is an error rather than an empty report.
const STATUS_WORDS: &[&str] = &["draft", "open", "paid", "void", "uncollectible", "deleted"];

impl std::str::FromStr for InvoiceStatus {
    type Err = crate::vocabulary::ArgumentError;

    fn from_str(word: &str) -> Result<Self, Self::Err> {
        match InvoiceStatus::from(word.to_owned()) {
            InvoiceStatus::Unknown(_) => Err(crate::vocabulary::ArgumentError::UnknownWord {
                vocabulary: "invoice status",
                code: "unknown_invoice_status",
                given: word.chars().take(40).collect(),
                expected: STATUS_WORDS,
            }),
            known => Ok(known),
        }
    }
}

impl From<&str> for InvoiceStatus {
    fn from(value: &str) -> Self {
        InvoiceStatus::from(value.to_owned())
    }
}

impl From<InvoiceStatus> for String {
    fn from(status: InvoiceStatus) -> Self {
        match status {
            InvoiceStatus::Unknown(other) => other,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for InvoiceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a host or billbridge can do to an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceAction {
    /// Freeze a draft and make it payable (`POST /v1/invoices/{id}/finalize`).
    Finalize,
    /// Collect payment through Stripe (`POST /v1/invoices/{id}/pay`).
    Pay,
    /// Record a payment made outside Stripe (`/pay` with `paid_out_of_band=true`).
    MarkPaidOutOfBand,
    /// Cancel a finalized invoice (`/void`).
    Void,
    /// Write the invoice off (`/mark_uncollectible`).
    MarkUncollectible,
    /// Delete a draft (`DELETE /v1/invoices/{id}`).
    Delete,
    /// Add, change or remove lines; only drafts have editable lines.
    EditLines,
    /// Send the invoice to the payer (`/send`).
    Send,
}

crate::vocabulary!(InvoiceAction, "invoice action", "unknown_invoice_action", {
    InvoiceAction::Finalize => "finalize",
    InvoiceAction::Pay => "pay",
    InvoiceAction::MarkPaidOutOfBand => "mark_paid_out_of_band",
    InvoiceAction::Void => "void",
    InvoiceAction::MarkUncollectible => "mark_uncollectible",
    InvoiceAction::Delete => "delete",
    InvoiceAction::EditLines => "edit_lines",
    InvoiceAction::Send => "send",
});

/// Where an invoice is after an allowed action.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// The invoice still exists, in this status.
    Status(InvoiceStatus),
    /// The draft was deleted; the invoice no longer exists.
    Deleted,
}

/// An action the invoice's status does not allow. Raised before any request is sent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("cannot {action} an invoice that is {from}")]
pub struct IllegalTransition {
    /// The status the invoice was in.
    pub from: InvoiceStatus,
    /// The action that was refused.
    pub action: InvoiceAction,
}

impl Classify for IllegalTransition {
    fn code(&self) -> &'static str {
        "illegal_transition"
    }

    fn category(&self) -> ErrorCategory {
        ErrorCategory::InvalidState
    }
}

impl InvoiceStatus {
    /// `paid`, `void` or `deleted`: nothing can happen to the invoice any more, and no
    /// later snapshot may replace the status.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            InvoiceStatus::Paid | InvoiceStatus::Void | InvoiceStatus::Deleted
        )
    }

    /// Whether the payer still owes money: `open` or `uncollectible`.
    pub fn is_outstanding(&self) -> bool {
        matches!(self, InvoiceStatus::Open | InvoiceStatus::Uncollectible)
    }

    /// Applies `action` per Stripe's state machine:
    ///
    /// | from | allowed actions |
    /// |---|---|
    /// | draft | finalize → open, delete → deleted, edit lines → draft |
    /// | open | pay / mark paid out of band → paid, void → void, mark uncollectible → uncollectible, send → open |
    /// | uncollectible | pay / mark paid out of band → paid, void → void |
    /// | paid, void, deleted, unknown | nothing |
    ///
    /// Finalizing yields `open`; when Stripe's balance rule leaves nothing to collect the
    /// invoice then moves straight on to `paid` (see [`crate::domain::balance`]).
    ///
    /// # Errors
    /// [`IllegalTransition`] naming the status and the refused action.
    pub fn apply(&self, action: InvoiceAction) -> Result<Transition, IllegalTransition> {
        use InvoiceAction as A;
        use InvoiceStatus as S;
        let next = match (self, action) {
            (S::Draft, A::Finalize) => Transition::Status(S::Open),
            (S::Draft, A::Delete) => Transition::Deleted,
            (S::Draft, A::EditLines) => Transition::Status(S::Draft),
            (S::Open, A::Send) => Transition::Status(S::Open),
            (S::Open | S::Uncollectible, A::Pay | A::MarkPaidOutOfBand) => {
                Transition::Status(S::Paid)
            }
            (S::Open | S::Uncollectible, A::Void) => Transition::Status(S::Void),
            (S::Open, A::MarkUncollectible) => Transition::Status(S::Uncollectible),
            _ => {
                return Err(IllegalTransition {
                    from: self.clone(),
                    action,
                });
            }
        };
        Ok(next)
    }

    /// Whether a snapshot saying `next` may replace this status in the host's mirror.
    /// Webhooks arrive in any order and more than once; this keeps a status from ever
    /// going backwards.
    ///
    /// The order is `draft < open < uncollectible < {paid, void}`: a status may move to
    /// itself or to any later one, except that `paid` and `void` are both final and
    /// never replace each other. `deleted` is reached from `draft` only and is never
    /// left. `Unknown` (a status Stripe added after this version, held only when no
    /// known status was ever seen) may be replaced by any known status except `draft`;
    /// the mirror never lets it replace a known one (see [`crate::mirror`]).
    pub fn may_move_to(&self, next: &InvoiceStatus) -> bool {
        use InvoiceStatus as S;
        if self == next {
            return true;
        }
        match (self, next) {
            (S::Paid | S::Void | S::Deleted, _) => false,
            (S::Draft, S::Deleted) => true,
            (_, S::Deleted) => false,
            (S::Unknown(_), S::Draft) => false,
            (S::Unknown(_), _) => true,
            // Not a move at all: the mirror keeps the known status and records the raw one.
            (_, S::Unknown(_)) => false,
            (current, next) => current.rank() < next.rank(),
        }
    }

    /// Position in the forward order; `Unknown` has none and is handled by the caller.
    fn rank(&self) -> u8 {
        match self {
            InvoiceStatus::Draft => 0,
            InvoiceStatus::Open => 1,
            InvoiceStatus::Uncollectible => 2,
            InvoiceStatus::Paid | InvoiceStatus::Void | InvoiceStatus::Deleted => 3,
            InvoiceStatus::Unknown(_) => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_ACTIONS: [InvoiceAction; 8] = [
        InvoiceAction::Finalize,
        InvoiceAction::Pay,
        InvoiceAction::MarkPaidOutOfBand,
        InvoiceAction::Void,
        InvoiceAction::MarkUncollectible,
        InvoiceAction::Delete,
        InvoiceAction::EditLines,
        InvoiceAction::Send,
    ];

    fn known() -> Vec<InvoiceStatus> {
        vec![
            InvoiceStatus::Draft,
            InvoiceStatus::Open,
            InvoiceStatus::Paid,
            InvoiceStatus::Void,
            InvoiceStatus::Uncollectible,
        ]
    }

    #[test]
    fn status_serde_keeps_unknown_values() {
        let status: InvoiceStatus = serde_json::from_str("\"pending_review\"").unwrap();
        assert_eq!(status, InvoiceStatus::Unknown("pending_review".into()));
        assert_eq!(
            serde_json::to_string(&status).unwrap(),
            "\"pending_review\""
        );
        assert_eq!(
            serde_json::to_string(&InvoiceStatus::Paid).unwrap(),
            "\"paid\""
        );
    }

    #[test]
    fn draft_finalizes_to_open_and_can_be_deleted() {
        let draft = InvoiceStatus::Draft;
        assert_eq!(
            draft.apply(InvoiceAction::Finalize).unwrap(),
            Transition::Status(InvoiceStatus::Open)
        );
        assert_eq!(
            draft.apply(InvoiceAction::Delete).unwrap(),
            Transition::Deleted
        );
        assert_eq!(
            draft.apply(InvoiceAction::EditLines).unwrap(),
            Transition::Status(InvoiceStatus::Draft)
        );
        for action in [
            InvoiceAction::Pay,
            InvoiceAction::MarkPaidOutOfBand,
            InvoiceAction::Void,
            InvoiceAction::MarkUncollectible,
            InvoiceAction::Send,
        ] {
            assert!(draft.apply(action).is_err(), "{action} on a draft");
        }
    }

    #[test]
    fn open_moves_to_paid_void_or_uncollectible() {
        let open = InvoiceStatus::Open;
        let to = |action| open.apply(action).unwrap();
        assert_eq!(
            to(InvoiceAction::Pay),
            Transition::Status(InvoiceStatus::Paid)
        );
        assert_eq!(
            to(InvoiceAction::MarkPaidOutOfBand),
            Transition::Status(InvoiceStatus::Paid)
        );
        assert_eq!(
            to(InvoiceAction::Void),
            Transition::Status(InvoiceStatus::Void)
        );
        assert_eq!(
            to(InvoiceAction::MarkUncollectible),
            Transition::Status(InvoiceStatus::Uncollectible)
        );
        assert_eq!(
            to(InvoiceAction::Send),
            Transition::Status(InvoiceStatus::Open)
        );
        for action in [
            InvoiceAction::Finalize,
            InvoiceAction::Delete,
            InvoiceAction::EditLines,
        ] {
            assert!(open.apply(action).is_err(), "{action} on an open invoice");
        }
    }

    #[test]
    fn uncollectible_can_still_be_paid_or_voided() {
        let status = InvoiceStatus::Uncollectible;
        assert_eq!(
            status.apply(InvoiceAction::Pay).unwrap(),
            Transition::Status(InvoiceStatus::Paid)
        );
        assert_eq!(
            status.apply(InvoiceAction::MarkPaidOutOfBand).unwrap(),
            Transition::Status(InvoiceStatus::Paid)
        );
        assert_eq!(
            status.apply(InvoiceAction::Void).unwrap(),
            Transition::Status(InvoiceStatus::Void)
        );
        assert!(status.apply(InvoiceAction::EditLines).is_err());
        assert!(status.apply(InvoiceAction::MarkUncollectible).is_err());
    }

    #[test]
    fn final_and_unknown_statuses_refuse_every_action() {
        for status in [
            InvoiceStatus::Paid,
            InvoiceStatus::Void,
            InvoiceStatus::Deleted,
            InvoiceStatus::Unknown("pending_review".into()),
        ] {
            for action in ALL_ACTIONS {
                let error = status.apply(action).unwrap_err();
                assert_eq!(error.from, status);
                assert_eq!(error.action, action);
                assert_eq!(error.code(), "illegal_transition");
            }
        }
    }

    #[test]
    fn illegal_transition_names_status_and_action() {
        let error = InvoiceStatus::Void.apply(InvoiceAction::Pay).unwrap_err();
        assert_eq!(error.to_string(), "cannot pay an invoice that is void");
    }

    #[test]
    fn statuses_never_move_backwards() {
        use InvoiceStatus as S;
        assert!(S::Open.may_move_to(&S::Paid));
        assert!(S::Draft.may_move_to(&S::Open));
        assert!(S::Draft.may_move_to(&S::Paid));
        assert!(S::Open.may_move_to(&S::Uncollectible));
        assert!(S::Uncollectible.may_move_to(&S::Paid));
        assert!(S::Uncollectible.may_move_to(&S::Void));
        assert!(!S::Paid.may_move_to(&S::Open));
        assert!(!S::Paid.may_move_to(&S::Void));
        assert!(!S::Void.may_move_to(&S::Paid));
        assert!(!S::Open.may_move_to(&S::Draft));
        assert!(!S::Uncollectible.may_move_to(&S::Open));
        assert!(S::Paid.may_move_to(&S::Paid));
    }

    #[test]
    fn unknown_never_replaces_a_known_status_but_yields_to_one() {
        use InvoiceStatus as S;
        let unknown = S::Unknown("pending_review".into());
        for known in known() {
            assert!(!known.may_move_to(&unknown), "{known} -> unknown");
        }
        assert!(unknown.may_move_to(&S::Paid));
        assert!(!unknown.may_move_to(&S::Draft));
    }

    #[test]
    fn deleted_is_reached_from_draft_only_and_never_left() {
        use InvoiceStatus as S;
        assert!(S::Draft.may_move_to(&S::Deleted));
        for other in [S::Open, S::Paid, S::Void, S::Uncollectible] {
            assert!(!other.may_move_to(&S::Deleted), "{other} -> deleted");
            assert!(!S::Deleted.may_move_to(&other), "deleted -> {other}");
        }
        assert_eq!(S::from("deleted"), S::Deleted);
        assert_eq!(S::Deleted.as_str(), "deleted");
    }

    #[test]
    fn final_statuses_accept_only_themselves() {
        for current in known().into_iter().filter(InvoiceStatus::is_final) {
            for next in known() {
                assert_eq!(
                    current.may_move_to(&next),
                    current == next,
                    "{current} -> {next}"
                );
            }
        }
    }

    #[test]
    fn every_action_allowed_by_apply_is_a_forward_move() {
        for status in known() {
            for action in ALL_ACTIONS {
                if let Ok(Transition::Status(next)) = status.apply(action) {
                    assert!(status.may_move_to(&next), "{status} --{action}--> {next}");
                }
            }
        }
    }
}
