// The kiosk page's small behaviours: clock, countdowns, sounds, fitting a screen that cannot
// scroll, the check before use, the way back to the server's language, and the offline mode.
// Everything the server decides arrives as HTML over the WebSocket (htmx ws extension).
(function () {
  "use strict";
  const root = document.getElementById("kiosk");
  if (!root) return;
  const RESULT_SECONDS = 6;
  let lastHeartbeat = null; // local clock time of the agent's last heartbeat
  let offlinePoll = null;
  let seenOffline = new Set();
  let firstOfflineRead = null; // the agent's id of the first tap it saved while we were offline
  let resultTimer = null;
  let refreshTimer = null;
  const handled = new WeakSet(); // htmx reports a swapped element once per later swap too

  // --- Clock and countdowns (local time of the kiosk) ---------------------------------
  // The factory's time zone, whatever the kiosk's own clock setting is.
  const clockFormat = (el) => new Intl.DateTimeFormat("en-GB", {
    hour: "2-digit", minute: "2-digit", hour12: false, timeZone: el.dataset.timeZone || undefined,
  });
  function tick() {
    const now = new Date();
    for (const el of document.querySelectorAll("[data-clock]")) {
      el.textContent = clockFormat(el).format(now);
    }
    for (const el of document.querySelectorAll("[data-deadline]")) {
      const left = Math.max(0, (Number(el.dataset.deadline) - Date.now()) / 1000);
      const counter = el.querySelector("[data-countdown]") || el.parentElement.querySelector("[data-countdown]");
      if (counter) counter.textContent = Math.ceil(left);
      el.classList.toggle("is-ending", left < 6);
      if (left === 0 && el.classList.contains("offer")) el.hidden = true;
    }
    const reader = document.getElementById("kiosk-reader");
    if (reader && reader.dataset.demo !== "1") {
      const silentAfter = Number(reader.dataset.silentAfterMs);
      const stale = lastHeartbeat === null || Date.now() - lastHeartbeat >= silentAfter;
      reader.classList.toggle("is-stale", stale && reader.classList.contains("is-ok"));
    }
  }

  // Deadlines arrive as "seconds left" measured by the server; anchor them to this clock.
  function anchor(scope) {
    for (const el of scope.querySelectorAll("[data-deadline-in]")) {
      el.dataset.deadline = String(Date.now() + Number(el.dataset.deadlineIn) * 1000);
      el.removeAttribute("data-deadline-in");
    }
    const reader = document.getElementById("kiosk-reader");
    if (reader && reader.dataset.age !== undefined) {
      lastHeartbeat = reader.dataset.age === "" ? null : Date.now() - Number(reader.dataset.age) * 1000;
      reader.dataset.staleText = reader.dataset.staleText || "";
      delete reader.dataset.age;
    }
  }

  // --- Sounds: short Web Audio tones, no audio files ------------------------------------
  // A browser keeps a page silent until someone touches it, unless it was started with
  // --autoplay-policy=no-user-gesture-required (the kiosk's unit is) or the page follows a tap on
  // this site (the pairing button). So the page tries at once, and again at every touch until
  // it works; #kiosk[data-audio] says whether it can be heard (a hint asks for a touch), and
  // data-tones counts the tones it has played, for whoever checks a kiosk's sound.
  let audio = null;
  let tonesPlayed = 0;
  const TONES = {
    borrowed: [[880, 0.09], [1320, 0.14]],
    session_started: [[660, 0.08], [990, 0.1]],
    enrolled: [[880, 0.09], [1320, 0.14]],
    returned: [[1320, 0.09], [880, 0.14]],
    session_ended: [[990, 0.08], [660, 0.1]],
    taken_over: [[660, 0.08], [880, 0.08], [1100, 0.12]],
    undone_borrow: [[880, 0.09], [660, 0.14]],
    undone_return: [[880, 0.09], [660, 0.14]],
    undone_take_over: [[880, 0.09], [660, 0.14]],
    damage_reported: [[740, 0.12], [0, 0.05], [740, 0.12]],
    awaiting_badge: [[740, 0.12]],
    checklist: [[740, 0.1], [988, 0.1], [740, 0.1]],
    inspection_failed: [[740, 0.12], [0, 0.05], [740, 0.12]],
    refused: [[220, 0.18], [0, 0.06], [220, 0.28]],
    unknown_tag: [[330, 0.15], [262, 0.25]],
  };
  function audioContext() {
    if (!audio) {
      audio = new (window.AudioContext || window.webkitAudioContext)();
      audio.addEventListener("statechange", () => { root.dataset.audio = audio.state; });
      root.dataset.audio = audio.state;
    }
    if (audio.state !== "running") audio.resume().catch(() => {});
    return audio;
  }
  function wakeAudio() {
    try {
      audioContext();
    } catch (err) {
      // No audio device: the colour and text still say what happened.
    }
  }
  for (const type of ["pointerdown", "touchstart", "keydown"]) {
    document.addEventListener(type, wakeAudio, { capture: true, passive: true });
  }
  function play(outcome) {
    const tones = TONES[outcome];
    if (!tones) return;
    try {
      const context = audioContext();
      let t = context.currentTime + 0.01;
      for (const [frequency, length] of tones) {
        if (frequency) {
          const osc = context.createOscillator();
          const gain = context.createGain();
          osc.type = "square";
          osc.frequency.value = frequency;
          gain.gain.setValueAtTime(0.18, t);
          gain.gain.exponentialRampToValueAtTime(0.001, t + length);
          osc.connect(gain).connect(context.destination);
          osc.start(t);
          osc.stop(t + length);
          tonesPlayed += 1;
        }
        t += length;
      }
      root.dataset.tones = String(tonesPlayed);
    } catch (err) {
      // No audio device: the colour and text still say what happened.
    }
  }

  function showResult(el) {
    play(el.dataset.sound);
    clearTimeout(resultTimer);
    resultTimer = setTimeout(() => { el.hidden = true; }, RESULT_SECONDS * 1000);
    el.addEventListener("click", () => { el.hidden = true; }); // a touch puts it away sooner
  }

  // --- Fitting a screen that cannot be scrolled -----------------------------------------
  // A list shows the rows that fit and "+N more" for the others; a panel still too full drops
  // its [data-optional] lines (help), last first.
  function fitList(list) {
    const more = list.querySelector(".more");
    const rows = [...list.children].filter((row) => row !== more);
    for (const row of rows) row.hidden = false;
    more.hidden = true;
    let shown = rows.length;
    while (shown > 0 && list.scrollHeight > list.clientHeight + 1) {
      shown -= 1;
      rows[shown].hidden = true;
      more.hidden = false;
      more.textContent = more.dataset.text.replace("%(count)s", rows.length - shown);
    }
  }
  function fit(panel) {
    if (!panel || panel.hidden) return;
    const optional = [...panel.querySelectorAll("[data-optional]")];
    for (const el of optional) el.hidden = false;
    while (optional.length && panel.scrollHeight > panel.clientHeight + 1) optional.pop().hidden = true;
    for (const list of panel.querySelectorAll("[data-fit]")) fitList(list);
  }
  function fitAll() {
    fit(document.getElementById("kiosk-main"));
    fit(document.getElementById("kiosk-result"));
  }
  // Whatever changes the room they have (a new panel, the side panel of offers coming or
  // going, a banner, the window), they are fitted again.
  const resized = new ResizeObserver(fitAll);
  function watchSizes() {
    resized.disconnect();
    for (const el of document.querySelectorAll("#kiosk-main, #kiosk-result, [data-fit]")) {
      resized.observe(el);
    }
  }

  // --- The check before use -----------------------------------------------------------
  // One check at a time, the current one shown large: OK or NG answers it and moves to the
  // next, Back takes the last answer back. All OK sends the answers at once (the tool is lent, and Undo is
  // offered as after any borrow); with an NG the person presses "send it to maintenance" first.
  // The answers stay in the page until sent, also when a push draws the same question again (a
  // timer, another tap); another question, or none, starts afresh.
  let asked = { question: null, answers: [] };
  function drawChecklist() {
    const form = document.getElementById("kiosk-checklist");
    const question = form ? form.dataset.question : null;
    if (question !== asked.question) asked = { question, answers: [] };
    if (!form) return;
    const answers = asked.answers;
    const rows = [...form.querySelectorAll(".checks li")];
    rows.forEach((row, n) => {
      row.classList.toggle("is-current", n === answers.length);
      row.dataset.said = answers[n] || "";
      row.querySelector("input").value = answers[n] || "";
    });
    form.classList.toggle("is-done", answers.length === rows.length);
    form.classList.toggle("has-ng", answers.includes("ng"));
    form.querySelector("[data-back]").disabled = answers.length === 0;
    fit(document.getElementById("kiosk-main")); // a longer check may leave no room for the hint
  }
  document.addEventListener("click", (event) => {
    const button = event.target.closest("#kiosk-checklist button[type=button]");
    if (!button || root.dataset.monitor === "1") return;
    const count = button.form.querySelectorAll(".checks li").length;
    if (button.hasAttribute("data-back")) {
      asked.answers.pop();
    } else if (asked.answers.length < count) {
      asked.answers.push(button.dataset.answer);
    }
    drawChecklist();
    if (button.dataset.answer && asked.answers.length === count && !asked.answers.includes("ng")) {
      button.form.requestSubmit();
    }
  });

  // --- Back to the server's language ----------------------------------------------------
  // A language chosen on the kiosk is for the session it was chosen in (or, chosen on the idle
  // screen, for the next one). When that session ends, when someone else badges in, or when
  // nobody does within a session window, the screen goes back to the server's language, so the
  // next person in the queue never inherits it.
  const FAREWELL_MS = 2500; // the goodbye card is read first
  const ownLanguage = root.dataset.language !== root.dataset.defaultLanguage && root.dataset.monitor !== "1";
  let chosenFor = null; // the session the language is for: an employee id, "" for the next one
  let languageTimer = null;
  async function backToDefaultLanguage() {
    // Asked for first, and the page reloaded only once the server has answered: a kiosk must
    // never navigate into the browser's "site can't be reached" page.
    const form = document.querySelector("form.lang");
    const body = new FormData(form); // the CSRF token and the page to come back to
    body.set("language", root.dataset.defaultLanguage);
    try {
      const answer = await fetch(form.action, { method: "POST", body });
      if (answer.ok) {
        location.reload();
        return;
      }
    } catch (err) {
      // The server is away; the offline banner says so.
    }
    languageTimer = setTimeout(backToDefaultLanguage, 5000);
  }
  function followSession(main) {
    if (!ownLanguage) return;
    const employee = main.dataset.employee || "";
    clearTimeout(languageTimer);
    if (chosenFor === null || (chosenFor === "" && employee)) chosenFor = employee;
    if (employee !== chosenFor) {
      languageTimer = setTimeout(backToDefaultLanguage, employee ? 0 : FAREWELL_MS);
    } else if (!employee) {
      languageTimer = setTimeout(backToDefaultLanguage, Number(root.dataset.sessionSeconds) * 1000);
    }
  }

  // The state is fetched again when the first countdown on the screen runs out (the server
  // says when), after a (re)connect, and it answers for this page: a monitor's own station.
  let shownVersion = Number(document.getElementById("kiosk-timer").dataset.version);
  function fetchState(lateSince, again = false) {
    const url = root.dataset.stateUrl;
    const late = lateSince ? (url.includes("?") ? "&" : "?") + "late_since=" + lateSince : "";
    htmx.ajax("GET", url + late, { swap: "none", headers: again ? { "X-Kiosk-Again": "1" } : {} });
  }
  // An answer read before a tap can arrive after that tap's push: shown, it would put the
  // screen back in time. It is asked for once more instead; the second answer is shown
  // whatever it says (the station's state can go back: a restored backup).
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const version = /data-version="(\d+)"/.exec(event.detail.serverResponse || "");
    const again = event.detail.requestConfig.headers["X-Kiosk-Again"];
    if (version && Number(version[1]) < shownVersion && !again) {
      event.detail.shouldSwap = false;
      const asked = new URL(event.detail.pathInfo.requestPath, location.href);
      fetchState(asked.searchParams.get("late_since"), true);
    }
  });
  function scheduleRefresh(timer) {
    clearTimeout(refreshTimer);
    const ms = Number(timer.dataset.refreshInMs);
    if (timer.dataset.refreshInMs && ms >= 0) refreshTimer = setTimeout(() => fetchState(null), ms);
  }

  // Fired for each swapped-in element, and again for it at every later swap of the same
  // message: each element is handled once, or a result would sound three times at once.
  document.body.addEventListener("htmx:oobAfterSwap", (event) => {
    const el = event.target;
    if (handled.has(el)) return;
    handled.add(el);
    anchor(el);
    if (el.id === "kiosk-reader") anchor(document);
    if (el.id === "kiosk-main") {
      watchSizes();
      followSession(el);
      drawChecklist();
    }
    if (el.id === "kiosk-result") {
      watchSizes();
      showResult(el);
    }
    if (el.id === "kiosk-notice") setTimeout(() => { el.hidden = true; }, 15000);
    if (el.id === "kiosk-timer") {
      shownVersion = Number(el.dataset.version);
      scheduleRefresh(el);
    }
  });

  // --- Connection to the server, and the offline mode ----------------------------------
  const offlineBanner = document.getElementById("kiosk-offline");
  // htmx's default waits up to 64 s between attempts; a kiosk should be back within seconds of
  // the server, or its taps are applied while the screen still says "no connection".
  htmx.config.wsReconnectDelay = (retries) => Math.min(500 * 2 ** retries, 4000) * (0.5 + Math.random() / 2);
  document.body.addEventListener("htmx:wsOpen", () => {
    offlineBanner.hidden = true;
    const lateSince = firstOfflineRead;
    stopOfflinePoll();
    // Pushes sent before the socket joined its group (while the page loaded, or while it was
    // disconnected) reached nobody: fetch the current state. The agent may have delivered the
    // offline taps before the page was back; the server then says so here.
    fetchState(lateSince);
  });
  const RETRIED = [1006, 1011, 1012, 1013]; // the close codes the ws extension retries itself
  document.body.addEventListener("htmx:wsClose", (event) => {
    offlineBanner.hidden = false;
    startOfflinePoll();
    const code = event.detail.event.code;
    if (code === 4403) {
      // No longer paired (or no longer signed in as staff): the page says what to do. Once a
      // minute at most, should the page and the socket ever disagree.
      const last = Number(sessionStorage.getItem("kiosk-reloaded-at") || 0);
      if (Date.now() - last > 60000) {
        sessionStorage.setItem("kiosk-reloaded-at", String(Date.now()));
        location.reload();
      }
    } else if (!RETRIED.includes(code)) {
      // Any other close (a proxy's or the server's connection limit) would leave the kiosk
      // offline for good.
      setTimeout(() => event.detail.socketWrapper.reconnect(), 1000);
    }
  });

  // While the server is unreachable, the local agent confirms that each tap was saved.
  // A read still waiting in the agent's outbox is one the server has not seen: announce each
  // once, including those made before the first poll (the connection drops at any moment).
  const offlineDetail = offlineBanner.querySelector("[data-offline-detail]");
  const offlineDetailText = offlineDetail.textContent;
  async function pollAgent() {
    try {
      const response = await fetch(root.dataset.agentStatusUrl, { cache: "no-store" });
      const status = await response.json();
      const fresh = (status.recent || []).filter(
        (read) => read.state === "pending" && !seenOffline.has(read.id));
      for (const read of fresh) seenOffline.add(read.id);
      if (fresh.length && offlinePoll) {
        firstOfflineRead = firstOfflineRead || fresh[fresh.length - 1].id; // newest first
        offlineDetail.textContent = offlineBanner.dataset.savedText.replace("%(count)s", status.outbox_depth);
        play("awaiting_badge");
      }
    } catch (err) {
      // The agent is not reachable either; the banner already says there is no connection.
    }
  }
  function startOfflinePoll() {
    if (offlinePoll || !root.dataset.agentStatusUrl) return;
    offlinePoll = setInterval(pollAgent, 1000);
    pollAgent();
  }
  function stopOfflinePoll() {
    clearInterval(offlinePoll);
    offlinePoll = null;
    seenOffline = new Set();
    firstOfflineRead = null;
    offlineDetail.textContent = offlineDetailText;
  }

  anchor(document);
  wakeAudio();
  watchSizes();
  followSession(document.getElementById("kiosk-main"));
  drawChecklist();
  scheduleRefresh(document.getElementById("kiosk-timer"));
  tick();
  setInterval(tick, 250);
})();
