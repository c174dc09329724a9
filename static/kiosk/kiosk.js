// The kiosk page's small behaviours: clock, countdowns, sounds, and the offline mode.
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
      if (left === 0 && el.classList.contains("undo")) el.hidden = true;
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
  let audio = null;
  const TONES = {
    borrowed: [[880, 0.09], [1320, 0.14]],
    session_started: [[660, 0.08], [990, 0.1]],
    enrolled: [[880, 0.09], [1320, 0.14]],
    returned: [[1320, 0.09], [880, 0.14]],
    session_ended: [[990, 0.08], [660, 0.1]],
    handover: [[660, 0.08], [880, 0.08], [1100, 0.12]],
    awaiting_badge: [[740, 0.12]],
    refused: [[220, 0.18], [0, 0.06], [220, 0.28]],
    unknown_tag: [[330, 0.15], [262, 0.25]],
  };
  function play(outcome) {
    const tones = TONES[outcome];
    if (!tones) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      let t = audio.currentTime + 0.01;
      for (const [frequency, length] of tones) {
        if (frequency) {
          const osc = audio.createOscillator();
          const gain = audio.createGain();
          osc.type = "square";
          osc.frequency.value = frequency;
          gain.gain.setValueAtTime(0.18, t);
          gain.gain.exponentialRampToValueAtTime(0.001, t + length);
          osc.connect(gain).connect(audio.destination);
          osc.start(t);
          osc.stop(t + length);
        }
        t += length;
      }
    } catch (err) {
      // No audio device: the colour and text still say what happened.
    }
  }

  function showResult(el) {
    play(el.dataset.sound);
    clearTimeout(resultTimer);
    resultTimer = setTimeout(() => { el.hidden = true; }, RESULT_SECONDS * 1000);
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
    if (el.id === "kiosk-result") showResult(el);
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
  scheduleRefresh(document.getElementById("kiosk-timer"));
  tick();
  setInterval(tick, 250);
})();
