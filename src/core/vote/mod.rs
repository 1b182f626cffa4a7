//! The class vote, as data: students vote on a round's question from their phones (issue 27). Pure:
//! no network and no clock of its own, so every rule is tested without a server.
//!
//! - [`ballot`]: the round the phones see, who joined, each voter's latest vote, the tally and the
//!   round's result.
//! - [`api`]: the join code, the JSON interface and [`Poll`], which answers every `/api/...` request.
//! - [`limit`]: requests a second and wrong codes per network address.
//! - [`record`]: the class's results over the rounds and their CSV (counts, never names).
//! - [`map`]: the top view the phones tap on for a "where" question, as a PNG.

pub mod api;
pub mod ballot;
pub mod limit;
pub mod map;
pub mod record;

pub use api::{ApiRequest, ApiResponse, JoinCode, MAX_BODY_BYTES, Poll};
pub use ballot::{Ballot, RoundInfo, RoundResult, Solution, Tally, VoteKind};
pub use limit::Limits;
pub use record::ClassRecord;
