// losscape's class vote, on a phone: join with the code and initials, then vote on each round's question.
// The page asks the server for the question every 1.5 s and shows the answer once the teacher reveals it.
// Everything the server or a person typed is shown as text (textContent), never as markup.
"use strict";

(() => {
  const POLL_MS = 1500;
  const $ = (id) => document.getElementById(id);
  const store = window.sessionStorage;

  const state = {
    code: store.getItem("code") || "",
    voter: store.getItem("voter") || "",
    id: store.getItem("id") || newId(),
    joined: false,
    question: null,
    shown: "",
    // my votes in the round `round`: a choice, or points by choice
    mine: { round: -1, choice: null, points: {} },
    target: 0,
    failures: 0,
    timer: null,
  };
  store.setItem("id", state.id);

  function newId() {
    const bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function say(text) {
    $("status").textContent = text;
  }

  function problem(text) {
    $("problem").textContent = text;
  }

  async function call(method, path, body) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 8000);
    const options = { method, cache: "no-store", signal: controller.signal, headers: {} };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    try {
      const response = await fetch(path, options);
      let data = {};
      try {
        data = await response.json();
      } catch (_) {
        data = {};
      }
      return { status: response.status, data };
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- joining ----

  function showJoin(message) {
    state.joined = false;
    $("vote").hidden = true;
    $("who").hidden = true;
    $("join-form").hidden = false;
    $("code").value = state.code;
    $("voter").value = state.voter;
    problem(message || "");
    (state.code ? $("voter") : $("code")).focus();
  }

  async function join(code, voter) {
    let answer;
    try {
      answer = await call("POST", "/api/join", { code, voter, id: state.id });
    } catch (_) {
      showJoin("Cannot reach the teacher's computer: is this phone on the classroom's network?");
      return;
    }
    const { status, data } = answer;
    if (status === 200) {
      state.code = code;
      state.voter = data.voter || voter;
      store.setItem("code", state.code);
      store.setItem("voter", state.voter);
      state.joined = true;
      $("join-form").hidden = true;
      $("vote").hidden = false;
      $("who").hidden = false;
      $("who").textContent = "Voting as " + state.voter;
      problem("");
      say("Joined.");
      refresh();
    } else if (status === 403) {
      showJoin("That is not the code on the projector.");
    } else if (status === 429) {
      showJoin("Too many tries: wait a minute, then try again.");
    } else if (status === 503) {
      showJoin("The class is full.");
    } else {
      showJoin(data.error || "Could not join (" + status + ").");
    }
  }

  $("join-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = $("code").value.trim();
    const voter = $("voter").value.trim();
    if (!code || !voter) {
      problem("Type the join code and your initials.");
      return;
    }
    join(code, voter);
  });

  // ---- the question ----

  function refreshSoon(ms) {
    clearTimeout(state.timer);
    state.timer = setTimeout(refresh, ms);
  }

  async function refresh() {
    if (!state.joined) return;
    try {
      const { status, data } = await call("GET", "/api/question");
      if (status === 200) {
        state.failures = 0;
        problem("");
        show(data);
      } else if (status === 429) {
        state.failures += 1;
      }
    } catch (_) {
      state.failures += 1;
      problem("Connection to the teacher's computer lost: retrying…");
    }
    refreshSoon(state.failures ? Math.min(5000, POLL_MS * (1 + state.failures)) : POLL_MS);
  }

  function show(q) {
    const text = JSON.stringify(q);
    const newRound = !state.question || state.question.round !== q.round;
    if (q.round !== state.mine.round) {
      state.mine = { round: q.round, choice: null, points: {} };
      state.target = 0;
      $("x").value = "";
      $("y").value = "";
    }
    if (text === state.shown) return;
    state.shown = text;
    state.question = q;
    const waiting = q.kind === "waiting";
    $("round").textContent = waiting ? "" : "Round " + q.round + (q.open ? "" : " · voting closed");
    $("question").textContent = waiting ? "Waiting for the teacher's question…" : q.question;
    showChoices(q);
    showWhere(q);
    showResult(q);
    if (newRound && !waiting) $("question").focus();
  }

  function showChoices(q) {
    const box = $("choices");
    box.replaceChildren();
    if (q.kind !== "choice") return;
    q.choices.forEach((choice, i) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "choice";
      button.textContent = choice;
      const picked = state.mine.choice === i;
      button.setAttribute("aria-pressed", picked ? "true" : "false");
      button.disabled = !q.open;
      if (q.answer && q.answer.includes(i)) button.classList.add("right");
      button.addEventListener("click", () => vote({ choice: i }));
      box.appendChild(button);
    });
  }

  function showWhere(q) {
    const point = q.kind === "point";
    $("where").hidden = !point;
    if (!point) return;
    const several = q.choices.length > 1;
    $("where-help").textContent = several
      ? "Tap where each optimizer will be: pick one, then tap the picture."
      : "Tap where " + q.choices[0] + " will be.";
    const targets = $("targets");
    targets.replaceChildren();
    targets.hidden = !several;
    q.choices.forEach((name, i) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "target";
      button.textContent = name + (state.mine.points[i] ? " ✓" : "");
      button.style.borderColor = (q.colors && q.colors[i]) || "";
      button.setAttribute("aria-pressed", state.target === i ? "true" : "false");
      button.addEventListener("click", () => {
        state.target = i;
        state.shown = "";
        show(q);
      });
      targets.appendChild(button);
    });
    const map = $("map");
    if (q.map && map.dataset.src !== q.map) {
      map.dataset.src = q.map;
      map.src = q.map;
    }
    $("send-point").disabled = !q.open;
    $("x").disabled = !q.open;
    $("y").disabled = !q.open;
    drawMarks();
  }

  function name(q, i) {
    return q.choices[i] === undefined ? "?" : q.choices[i];
  }

  function showResult(q) {
    const out = $("result");
    if (q.kind === "waiting") {
      out.textContent = "";
      return;
    }
    if (q.answer && q.kind === "choice") {
      const answer = q.answer.map((i) => name(q, i)).join(", ");
      const mine = state.mine.choice;
      if (mine === null) {
        out.textContent = "The answer: " + answer + ". You did not vote this round.";
      } else if (q.answer.includes(mine)) {
        out.textContent = "The answer: " + answer + ". You had it!";
      } else {
        out.textContent = "The answer: " + answer + ". You said " + name(q, mine) + ".";
      }
      return;
    }
    if (q.answer && q.kind === "point") {
      const lines = q.answer.map((truth, i) => {
        const at = "(" + truth[0].toFixed(2) + ", " + truth[1].toFixed(2) + ")";
        const p = state.mine.points[i];
        const off = p ? ": you were " + Math.hypot(p[0] - truth[0], p[1] - truth[1]).toFixed(2) + " away" : "";
        return name(q, i) + " was at " + at + off + ".";
      });
      out.textContent = lines.join(" ");
      return;
    }
    const voted =
      q.kind === "choice" ? state.mine.choice !== null : Object.keys(state.mine.points).length > 0;
    if (!q.open) {
      out.textContent = voted ? "Voting is closed: wait for the answer." : "Voting is closed.";
    } else if (q.kind === "choice" && voted) {
      out.textContent = "Your vote: " + name(q, state.mine.choice) + ". You can change it until the answer.";
    } else if (voted) {
      const placed = Object.keys(state.mine.points).length;
      out.textContent = "Points placed: " + placed + " of " + q.choices.length + ". You can move them until the answer.";
    } else {
      out.textContent = "";
    }
  }

  // ---- voting ----

  async function vote(extra) {
    const q = state.question;
    if (!q) return;
    const body = Object.assign(
      { code: state.code, voter: state.voter, id: state.id, round: q.round },
      extra
    );
    let answer;
    try {
      answer = await call("POST", "/api/vote", body);
    } catch (_) {
      problem("The vote did not arrive: try again.");
      return;
    }
    const { status, data } = answer;
    if (status === 200) {
      problem("");
      if (extra.point) {
        state.mine.points[extra.choice] = extra.point;
        const missing = q.choices.findIndex((_, i) => !state.mine.points[i]);
        if (missing >= 0) state.target = missing;
        say("Point for " + name(q, extra.choice) + " recorded.");
      } else {
        state.mine.choice = extra.choice;
        say("Vote recorded: " + name(q, extra.choice) + ".");
      }
      state.shown = "";
      show(q);
    } else if (status === 403) {
      showJoin("The join code changed: type the new one from the projector.");
    } else if (status === 409) {
      problem(data.error || "Voting is closed.");
      refreshSoon(0);
    } else if (status === 429) {
      problem("Too many votes at once: wait a moment.");
    } else {
      problem(data.error || "The vote was refused (" + status + ").");
    }
  }

  function domain() {
    const q = state.question;
    return q && q.domain ? q.domain : null;
  }

  $("map").addEventListener("click", (event) => {
    const q = state.question;
    const d = domain();
    if (!q || !d || !q.open) return;
    const rect = event.currentTarget.getBoundingClientRect();
    const u = (event.clientX - rect.left) / rect.width;
    const v = (event.clientY - rect.top) / rect.height;
    if (!(u >= 0 && u <= 1 && v >= 0 && v <= 1)) return;
    const x = d[0] + u * (d[1] - d[0]);
    const y = d[3] - v * (d[3] - d[2]);
    $("x").value = x.toFixed(3);
    $("y").value = y.toFixed(3);
    vote({ choice: state.target, point: [x, y] });
  });

  $("send-point").addEventListener("click", () => {
    const x = parseFloat($("x").value);
    const y = parseFloat($("y").value);
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      problem("Type two numbers, x and y.");
      return;
    }
    vote({ choice: state.target, point: [x, y] });
  });

  $("map").addEventListener("load", drawMarks);
  $("map").addEventListener("error", () => {
    // the picture is drawn when the round starts: ask again in a moment
    const map = $("map");
    setTimeout(() => {
      if (map.dataset.src) map.src = map.dataset.src + "&retry=" + Date.now();
    }, 1000);
  });
  window.addEventListener("resize", drawMarks);

  // starts (rings), my points (dots) and, once revealed, where each optimizer really was (crosses)
  function drawMarks() {
    const q = state.question;
    const d = domain();
    const map = $("map");
    const canvas = $("marks");
    if (!q || !d || !map.clientWidth) return;
    const scale = window.devicePixelRatio || 1;
    canvas.width = Math.round(map.clientWidth * scale);
    canvas.height = Math.round(map.clientHeight * scale);
    canvas.style.width = map.clientWidth + "px";
    canvas.style.height = map.clientHeight + "px";
    const g = canvas.getContext("2d");
    g.setTransform(scale, 0, 0, scale, 0, 0);
    g.clearRect(0, 0, map.clientWidth, map.clientHeight);
    const px = (p) => [
      ((p[0] - d[0]) / (d[1] - d[0])) * map.clientWidth,
      ((d[3] - p[1]) / (d[3] - d[2])) * map.clientHeight,
    ];
    const color = (i) => (q.colors && q.colors[i]) || "#ffffff";
    (q.starts || []).forEach((s, i) => {
      const [x, y] = px(s);
      g.lineWidth = 3;
      g.strokeStyle = color(i);
      g.beginPath();
      g.arc(x, y, 8, 0, 2 * Math.PI);
      g.stroke();
    });
    Object.entries(state.mine.points).forEach(([i, p]) => {
      const [x, y] = px(p);
      if (q.answer && q.answer[i]) {
        const [tx, ty] = px(q.answer[i]);
        g.strokeStyle = "#ffffff";
        g.lineWidth = 2;
        g.beginPath();
        g.moveTo(x, y);
        g.lineTo(tx, ty);
        g.stroke();
      }
      g.fillStyle = color(i);
      g.strokeStyle = Number(i) === state.target ? "#ffffff" : "#000000";
      g.lineWidth = 2;
      g.beginPath();
      g.arc(x, y, 7, 0, 2 * Math.PI);
      g.fill();
      g.stroke();
    });
    (q.answer || []).forEach((t, i) => {
      if (!Array.isArray(t)) return;
      const [x, y] = px(t);
      g.strokeStyle = color(i);
      g.lineWidth = 4;
      g.beginPath();
      g.moveTo(x - 9, y - 9);
      g.lineTo(x + 9, y + 9);
      g.moveTo(x + 9, y - 9);
      g.lineTo(x - 9, y + 9);
      g.stroke();
    });
  }

  // ---- start ----

  let fromLink = "";
  try {
    fromLink = decodeURIComponent(window.location.hash.slice(1)).trim();
  } catch (_) {
    fromLink = "";
  }
  if (fromLink) state.code = fromLink;
  if (state.code && state.voter) {
    join(state.code, state.voter);
  } else {
    showJoin("");
  }
})();
