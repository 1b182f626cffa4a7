//! The class vote's JSON interface, as pure functions of a request: the join code, the shapes of the
//! bodies and answers, and [`Poll`], which answers every `/api/...` request from the ballot and the
//! limits. The web server (`vote_server`) only moves bytes: it passes each request's method, path,
//! query, body and address here and writes back what comes out.
//!
//! - `GET /api/question` → `{"round", "question", "choices", "open", "kind", ...}` ([`question_json`])
//! - `POST /api/join` with `{"code", "voter", "id"?}` → 200, 400, 403, 429, 503
//! - `POST /api/vote` with `{"code", "voter", "id"?, "choice", "point"?, "round"?}` → 200, 400
//!   (malformed), 403 (wrong code), 409 (round closed), 429 (too many requests), 503 (class full)
//! - `GET /api/tally?code=…` → `{"round", "counts", "voted", "joined", "points"?}`
//!
//! Errors are `{"error": "what is wrong"}` with the status.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::ballot::{
    Ballot, MAX_ID_CHARS, MAX_NAME_CHARS, Refusal, RoundInfo, RoundResult, Solution, Tally, Vote,
    VoteKind,
};
use super::limit::{Client, Limits, RateLimiter, WrongCodes};
use crate::core::landscape::Vec2d;

/// The largest request body taken (a vote is under 200 bytes); larger ones get 413 unread.
pub const MAX_BODY_BYTES: usize = 4096;

/// The join code that lets a vote in: 4 to 12 letters and digits, compared without regard to case,
/// spaces or dashes.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinCode(String);

impl std::fmt::Debug for JoinCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JoinCode(..)")
    }
}

impl JoinCode {
    /// Letters and digits that cannot be mistaken for each other on a projector (no 0/O, 1/I/L).
    pub const ALPHABET: &'static [u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    /// Characters of a random code: 31^5 ≈ 29 million codes.
    pub const RANDOM_LEN: usize = 5;

    /// A fresh random code.
    pub fn random() -> Self {
        use rand::RngExt;
        let mut rng = rand::rng();
        let code = (0..Self::RANDOM_LEN)
            .map(|_| char::from(Self::ALPHABET[rng.random_range(0..Self::ALPHABET.len())]))
            .collect();
        Self(code)
    }

    /// A code given by the teacher (`--class-code`): 4 to 12 ASCII letters or digits (spaces and
    /// dashes are ignored).
    pub fn parse(text: &str) -> Result<Self, String> {
        let code = normalize(text);
        if !(4..=12).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!(
                "the class code must be 4 to 12 letters or digits, got {text:?}"
            ));
        }
        Ok(Self(code))
    }

    /// The code as shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `typed` is this code (in time that does not depend on where they differ).
    pub fn matches(&self, typed: &str) -> bool {
        let typed = normalize(typed);
        typed.len() == self.0.len()
            && typed
                .bytes()
                .zip(self.0.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// Upper case, without spaces and dashes.
fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// `POST /api/vote`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VoteBody {
    code: String,
    voter: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    choice: Option<usize>,
    #[serde(default)]
    point: Option<Vec2d>,
    #[serde(default)]
    round: Option<u64>,
}

/// `POST /api/join`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinBody {
    code: String,
    voter: String,
    #[serde(default)]
    id: Option<String>,
}

/// A request as the server read it.
#[derive(Clone, Copy, Debug)]
pub struct ApiRequest<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The path, without the query.
    pub path: &'a str,
    /// The query (after `?`), if any.
    pub query: Option<&'a str>,
    /// The body (at most [`MAX_BODY_BYTES`]; the server refuses larger ones).
    pub body: &'a [u8],
}

/// What to send back: a status and a JSON body.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    pub json: String,
    /// For 429: seconds to wait (the `Retry-After` header).
    pub retry_after: Option<u64>,
}

impl ApiResponse {
    fn ok(value: &impl Serialize) -> Self {
        match serde_json::to_string(value) {
            Ok(json) => Self {
                status: 200,
                json,
                retry_after: None,
            },
            Err(e) => Self::error(500, &format!("could not write the answer: {e}")),
        }
    }

    /// `{"error": message}` with `status`.
    pub fn error(status: u16, message: &str) -> Self {
        #[derive(Serialize)]
        struct Error<'a> {
            error: &'a str,
        }
        Self {
            status,
            json: serde_json::to_string(&Error { error: message })
                .unwrap_or_else(|_| "{}".to_owned()),
            retry_after: None,
        }
    }

    /// 429 with how long to wait.
    pub fn too_many(wait: Duration, what: &str) -> Self {
        Self {
            retry_after: Some(wait.as_secs().max(1)),
            ..Self::error(429, what)
        }
    }
}

/// `GET /api/question`'s answer.
#[derive(Serialize)]
struct QuestionJson<'a> {
    round: u64,
    question: &'a str,
    choices: &'a [String],
    open: bool,
    /// "waiting", "choice" or "point".
    kind: &'static str,
    /// Point questions: the top view's `[x min, x max, y min, y max]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<[f64; 4]>,
    /// Point questions: where each optimizer starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    starts: Option<&'a [Vec2d]>,
    /// Point questions: each optimizer's colour, `#rrggbb`.
    #[serde(skip_serializing_if = "Option::is_none")]
    colors: Option<Vec<String>>,
    /// Point questions: the top view's picture.
    #[serde(skip_serializing_if = "Option::is_none")]
    map: Option<String>,
    /// Once revealed: the right choices, or (point questions) where each optimizer really was.
    #[serde(skip_serializing_if = "Option::is_none")]
    answer: Option<&'a Solution>,
}

/// The JSON of `GET /api/question` for `info`.
pub fn question_json(info: &RoundInfo) -> String {
    let (kind, domain, starts, colors) = match &info.kind {
        VoteKind::Waiting => ("waiting", None, None, None),
        VoteKind::Choice => ("choice", None, None, None),
        VoteKind::Point {
            domain,
            starts,
            colors,
        } => (
            "point",
            Some(*domain),
            Some(starts.as_slice()),
            Some(
                colors
                    .iter()
                    .map(|[r, g, b]| format!("#{r:02x}{g:02x}{b:02x}"))
                    .collect(),
            ),
        ),
    };
    let map = domain.map(|_| format!("/api/map.png?round={}", info.round));
    ApiResponse::ok(&QuestionJson {
        round: info.round,
        question: &info.question,
        choices: &info.choices,
        open: info.open,
        kind,
        domain,
        starts,
        colors,
        map,
        answer: info.solution.as_ref(),
    })
    .json
}

/// Checks a voter's initials: trimmed, 1 to [`MAX_NAME_CHARS`] characters, no control characters.
pub fn check_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 {
        return Err("\"voter\" must not be empty".into());
    }
    if chars > MAX_NAME_CHARS {
        return Err(format!(
            "\"voter\" must be at most {MAX_NAME_CHARS} characters (initials)"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("\"voter\" must not hold control characters".into());
    }
    Ok(name.to_owned())
}

/// The key a voter is known by: the page's token (letters, digits, `-`, `_`) if given, else the name.
fn voter_key(name: &str, id: Option<&str>) -> Result<String, String> {
    match id {
        None => Ok(format!("name:{name}")),
        Some(id) => {
            let ok = (1..=MAX_ID_CHARS).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if ok {
                Ok(format!("id:{id}"))
            } else {
                Err(format!(
                    "\"id\" must be 1 to {MAX_ID_CHARS} letters, digits, '-' or '_'"
                ))
            }
        }
    }
}

/// Reads a JSON body: UTF-8, then the shape.
fn parse_body<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiResponse> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiResponse::error(400, "the body is not UTF-8 text"))?;
    serde_json::from_str(text).map_err(|e| ApiResponse::error(400, &format!("malformed JSON: {e}")))
}

/// The value of `key` in a query string (`a=1&b=2`), as sent (no decoding: codes are plain).
fn query_value<'a>(query: Option<&'a str>, key: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// The server's state: the code, the ballot and the limits. Every `/api/...` request is answered by
/// [`Poll::handle`].
#[derive(Debug)]
pub struct Poll {
    code: JoinCode,
    ballot: Ballot,
    rate: RateLimiter,
    wrong: WrongCodes,
    /// The tally changed since [`Poll::take_changed`] last looked.
    changed: bool,
}

impl Poll {
    pub fn new(code: JoinCode, limits: Limits, now: Instant) -> Self {
        Self {
            code,
            ballot: Ballot::default(),
            rate: RateLimiter::new(limits, now),
            wrong: WrongCodes::new(limits),
            changed: true,
        }
    }

    pub fn code(&self) -> &JoinCode {
        &self.code
    }

    pub fn info(&self) -> &RoundInfo {
        self.ballot.info()
    }

    /// The round on the projector now (see [`Ballot::set_round`]).
    pub fn set_round(&mut self, info: RoundInfo) -> Option<RoundResult> {
        self.changed = true;
        self.ballot.set_round(info)
    }

    pub fn tally(&self) -> Tally {
        self.ballot.tally()
    }

    /// Whether the tally changed since the last call.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// Marks the tally as changed (it could not be sent: send it again).
    pub fn set_changed(&mut self) {
        self.changed = true;
    }

    /// Every request (pages and pictures too) takes a token from its address's bucket first; without
    /// one it gets 429 and nothing else happens.
    pub fn admit(&mut self, from: IpAddr, now: Instant) -> Result<(), ApiResponse> {
        self.rate
            .allow(Client::of(from), now)
            .map_err(|wait| ApiResponse::too_many(wait, "too many requests: wait a moment"))
    }

    /// Answers an `/api/...` request from `from` at `now` (already admitted).
    pub fn handle(&mut self, request: &ApiRequest, from: IpAddr, now: Instant) -> ApiResponse {
        let client = Client::of(from);
        match (request.path, request.method) {
            ("/api/question", "GET") => ApiResponse {
                status: 200,
                json: question_json(self.ballot.info()),
                retry_after: None,
            },
            ("/api/tally", "GET") => {
                let Some(code) = query_value(request.query, "code") else {
                    return ApiResponse::error(400, "give the join code: /api/tally?code=…");
                };
                if let Err(refused) = self.check_code(code, client, now) {
                    return refused;
                }
                ApiResponse::ok(&self.ballot.tally())
            }
            ("/api/join", "POST") => {
                let body: JoinBody = match parse_body(request.body) {
                    Ok(body) => body,
                    Err(refused) => return refused,
                };
                if let Err(refused) = self.check_code(&body.code, client, now) {
                    return refused;
                }
                let (key, name) = match check_name(&body.voter)
                    .and_then(|name| Ok((voter_key(&name, body.id.as_deref())?, name)))
                {
                    Ok(who) => who,
                    Err(message) => return ApiResponse::error(400, &message),
                };
                match self.ballot.join(&key, &name) {
                    Ok(()) => {
                        self.changed = true;
                        #[derive(Serialize)]
                        struct Joined<'a> {
                            ok: bool,
                            voter: &'a str,
                            round: u64,
                        }
                        ApiResponse::ok(&Joined {
                            ok: true,
                            voter: &name,
                            round: self.ballot.info().round,
                        })
                    }
                    Err(refusal) => refused(refusal),
                }
            }
            ("/api/vote", "POST") => {
                let body: VoteBody = match parse_body(request.body) {
                    Ok(body) => body,
                    Err(refused) => return refused,
                };
                if let Err(refused) = self.check_code(&body.code, client, now) {
                    return refused;
                }
                let vote = check_name(&body.voter)
                    .and_then(|name| Ok((voter_key(&name, body.id.as_deref())?, name)))
                    .and_then(|(key, name)| {
                        let choice = match (body.choice, body.point) {
                            (Some(c), _) => c,
                            // a point question with one optimizer asked about needs no choice
                            (None, Some(_)) => 0,
                            (None, None) => {
                                return Err("give \"choice\" (or \"point\": [x, y])".to_owned());
                            }
                        };
                        if body.point.is_some_and(|p| !p.iter().all(|v| v.is_finite())) {
                            return Err("\"point\" must be two finite numbers".to_owned());
                        }
                        Ok(Vote {
                            key,
                            name,
                            choice,
                            point: body.point,
                            round: body.round,
                        })
                    });
                let vote = match vote {
                    Ok(vote) => vote,
                    Err(message) => return ApiResponse::error(400, &message),
                };
                let round = self.ballot.info().round;
                match self.ballot.vote(vote) {
                    Ok(()) => {
                        self.changed = true;
                        #[derive(Serialize)]
                        struct Voted {
                            ok: bool,
                            round: u64,
                        }
                        ApiResponse::ok(&Voted { ok: true, round })
                    }
                    Err(refusal) => refused(refusal),
                }
            }
            ("/api/question" | "/api/tally", _) => {
                ApiResponse::error(405, "use GET for this address")
            }
            ("/api/join" | "/api/vote", _) => {
                ApiResponse::error(405, "use POST with a JSON body for this address")
            }
            _ => ApiResponse::error(404, "no such address"),
        }
    }

    /// The join code, unless this address has tried too many wrong ones (429 without looking) or
    /// this one is wrong (403, counted).
    fn check_code(&mut self, typed: &str, client: Client, now: Instant) -> Result<(), ApiResponse> {
        if self.wrong.blocked(client, now) {
            return Err(ApiResponse::too_many(
                Duration::from_secs(60),
                "too many wrong codes: wait a minute",
            ));
        }
        if self.code.matches(typed) {
            Ok(())
        } else {
            self.wrong.record(client, now);
            Err(ApiResponse::error(403, "that is not the class's join code"))
        }
    }
}

fn refused(refusal: Refusal) -> ApiResponse {
    match refusal {
        Refusal::Invalid(message) => ApiResponse::error(400, &message),
        Refusal::Closed(message) => ApiResponse::error(409, &message),
        Refusal::Full => ApiResponse::error(503, "the class is full"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn codes_are_read_leniently_and_checked_exactly() {
        let code = JoinCode::parse("ab-cd 7").unwrap();
        assert_eq!(code.as_str(), "ABCD7");
        assert!(code.matches("abcd7") && code.matches(" AB CD-7 "));
        assert!(!code.matches("ABCD") && !code.matches("ABCD77") && !code.matches("ABCE7"));
        assert!(JoinCode::parse("abc").is_err());
        assert!(JoinCode::parse("abcd!").is_err());
        assert!(JoinCode::parse("ÄBCD").is_err());
        let random = JoinCode::random();
        assert_eq!(random.as_str().len(), JoinCode::RANDOM_LEN);
        assert!(
            random
                .as_str()
                .bytes()
                .all(|b| JoinCode::ALPHABET.contains(&b))
        );
        assert!(
            !format!("{random:?}").contains(random.as_str()),
            "never logged"
        );
    }

    #[test]
    fn the_question_json_has_the_documented_fields() {
        let info = RoundInfo {
            round: 2,
            question: "Where?".into(),
            choices: vec!["Adam".into()],
            kind: VoteKind::Point {
                domain: [-1.0, 1.0, -2.0, 2.0],
                starts: vec![[0.5, 0.5]],
                colors: vec![[255, 128, 0]],
            },
            open: true,
            solution: None,
        };
        let v: serde_json::Value = serde_json::from_str(&question_json(&info)).unwrap();
        assert_eq!(v["round"], 2);
        assert_eq!(v["choices"][0], "Adam");
        assert_eq!(v["open"], true);
        assert_eq!(v["kind"], "point");
        assert_eq!(v["colors"][0], "#ff8000");
        assert_eq!(v["map"], "/api/map.png?round=2");
        assert!(v.get("answer").is_none());
        let waiting: serde_json::Value =
            serde_json::from_str(&question_json(&RoundInfo::waiting(0))).unwrap();
        assert_eq!(waiting["kind"], "waiting");
        assert_eq!(waiting["question"], "");
    }

    fn poll() -> (Poll, Instant) {
        let now = Instant::now();
        let mut poll = Poll::new(JoinCode::parse("ABCDE").unwrap(), Limits::default(), now);
        poll.set_round(RoundInfo {
            round: 1,
            question: "Will Adam diverge?".into(),
            choices: vec!["yes".into(), "no".into()],
            kind: VoteKind::Choice,
            open: true,
            solution: None,
        });
        (poll, now)
    }

    fn post(poll: &mut Poll, path: &str, body: &[u8], now: Instant) -> ApiResponse {
        let request = ApiRequest {
            method: "POST",
            path,
            query: None,
            body,
        };
        poll.handle(&request, IpAddr::V4(Ipv4Addr::LOCALHOST), now)
    }

    #[test]
    fn each_kind_of_bad_vote_gets_its_status_and_changes_nothing() {
        let (mut poll, now) = poll();
        let cases: &[(&[u8], u16)] = &[
            (b"{\"code\":\"ABCDE\",\"voter\":\"AB\",\"choice\":1}", 200),
            (b"{\"code\":\"ABCDE\",\"voter\":\"AB\",\"choice\":", 400),
            (b"not json", 400),
            (b"{\"code\":\"ABCDE\",\"voter\":\"AB\",\"choice\":7}", 400),
            (b"{\"code\":\"ABCDE\",\"voter\":\"AB\",\"choice\":-1}", 400),
            (b"{\"code\":\"ABCDE\",\"voter\":\"AB\"}", 400),
            (b"{\"code\":\"ABCDE\",\"voter\":\"\",\"choice\":0}", 400),
            (
                b"{\"code\":\"ABCDE\",\"voter\":\"ABCDEFGHIJ\",\"choice\":0}",
                400,
            ),
            (
                b"{\"code\":\"ABCDE\",\"voter\":\"A\\u0000\",\"choice\":0}",
                400,
            ),
            (
                b"{\"code\":\"ABCDE\",\"voter\":\"AB\",\"choice\":0,\"admin\":1}",
                400,
            ),
            (
                b"{\"code\":\"ABCDE\",\"voter\":\"AB\",\"id\":\"../x\",\"choice\":0}",
                400,
            ),
            (
                b"{\"code\":\"ABCDE\",\"voter\":\"AB\",\"point\":[0,0]}",
                400,
            ),
            (b"{\"code\":\"WRONG\",\"voter\":\"AB\",\"choice\":0}", 403),
            (
                b"{\"code\":\"ABCDE\",\"voter\":\"\xff\xfe\",\"choice\":0}",
                400,
            ),
            (b"\xc3\x28", 400),
            (
                b"{\"code\":\"ABCDE\",\"voter\":\"AB\",\"choice\":0,\"round\":9}",
                409,
            ),
        ];
        for (body, status) in cases {
            let response = post(&mut poll, "/api/vote", body, now);
            assert_eq!(
                response.status,
                *status,
                "{} -> {}",
                String::from_utf8_lossy(body),
                response.json
            );
            let error: serde_json::Value = serde_json::from_str(&response.json).unwrap();
            assert!(*status == 200 || error["error"].is_string());
        }
        let tally = poll.tally();
        assert_eq!(
            (tally.counts, tally.voted, tally.joined),
            (vec![0, 1], 1, 1)
        );
        // initials that look like markup are only text: kept as typed, never interpreted
        let script = post(
            &mut poll,
            "/api/join",
            br#"{"code":"abcde","voter":"<script>","id":"x1"}"#,
            now,
        );
        assert_eq!(script.status, 200);
        assert!(poll.tally().names.iter().any(|(n, _)| n == "<script>"));
        // closed: 409, and nothing changes
        poll.set_round(RoundInfo {
            open: false,
            ..poll.info().clone()
        });
        let closed = post(
            &mut poll,
            "/api/vote",
            br#"{"code":"ABCDE","voter":"CD","choice":0}"#,
            now,
        );
        assert_eq!(closed.status, 409);
        assert_eq!(poll.tally().counts, [0, 1]);
    }

    #[test]
    fn wrong_codes_turn_into_429_and_the_right_code_still_waits_its_turn() {
        let (mut poll, now) = poll();
        let limits = Limits::default();
        let mut statuses = Vec::new();
        for _ in 0..1000 {
            let r = post(
                &mut poll,
                "/api/vote",
                br#"{"code":"AAAAA","voter":"X","choice":0}"#,
                now,
            );
            statuses.push(r.status);
        }
        let forbidden = statuses.iter().filter(|&&s| s == 403).count();
        assert_eq!(forbidden, limits.wrong_codes as usize);
        assert!(statuses[forbidden..].iter().all(|&s| s == 429));
        // the address is blocked for the window, even with the right code; others are not
        let right = br#"{"code":"ABCDE","voter":"X","choice":0}"#;
        assert_eq!(post(&mut poll, "/api/vote", right, now).status, 429);
        let other = poll.handle(
            &ApiRequest {
                method: "POST",
                path: "/api/vote",
                query: None,
                body: right,
            },
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            now,
        );
        assert_eq!(other.status, 200);
        let later = now + limits.wrong_code_window;
        assert_eq!(post(&mut poll, "/api/vote", right, later).status, 200);
        assert_eq!(poll.tally().counts, [1, 0], "one voter, X, counted once");
    }

    #[test]
    fn the_tally_needs_the_code_and_unknown_addresses_are_404() {
        let (mut poll, now) = poll();
        let get = |poll: &mut Poll, path: &str, query: Option<&str>| {
            poll.handle(
                &ApiRequest {
                    method: "GET",
                    path,
                    query,
                    body: b"",
                },
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                now,
            )
        };
        assert_eq!(get(&mut poll, "/api/tally", None).status, 400);
        assert_eq!(get(&mut poll, "/api/tally", Some("code=NOPE1")).status, 403);
        let tally = get(&mut poll, "/api/tally", Some("x=1&code=abcde"));
        assert_eq!(tally.status, 200);
        let v: serde_json::Value = serde_json::from_str(&tally.json).unwrap();
        assert_eq!(v["counts"], serde_json::json!([0, 0]));
        assert_eq!(get(&mut poll, "/api/../etc/passwd", None).status, 404);
        assert_eq!(get(&mut poll, "/api/vote", None).status, 405);
        assert_eq!(post(&mut poll, "/api/question", b"", now).status, 405);
    }

    #[test]
    fn a_flood_from_one_address_is_held_to_its_rate() {
        let (mut poll, now) = poll();
        let from = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let limits = Limits::default();
        let admitted = (0..1000).filter(|_| poll.admit(from, now).is_ok()).count();
        assert_eq!(admitted, limits.burst as usize);
        let refused = poll.admit(from, now).unwrap_err();
        assert_eq!((refused.status, refused.retry_after), (429, Some(1)));
        assert!(
            poll.admit(IpAddr::V4(Ipv4Addr::new(10, 1, 1, 1)), now)
                .is_ok()
        );
    }
}
