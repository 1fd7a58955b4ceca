// Plays the review app's clips in the browser (workbench/tui/web_audio.py sends them).
//
// textual.js turns the app's App.open_url and App.deliver_binary into window.open calls;
// this script, loaded first, takes the ones meant for it:
//   - "wuwb-audio:<JSON>" URLs are player commands: expect, load, unload, play, pause, seek, rate;
//   - the delivery that follows an "expect" command is a clip (WAV): it is fetched at once
//     and kept by its delivery key, so a "load" naming that key can play it.
// Every other URL goes to the browser's own window.open. Commands run one after the other.
// playbackRate keeps the pitch (preservesPitch). The playhead is not sent back: the app
// estimates it from its clock and re-sends it with every pause and seek.
(() => {
  "use strict";
  const PREFIX = "wuwb-audio:";
  const KEPT = 32; // clips kept; the app re-sends none of the 16 it remembers sending
  const browserOpen = window.open.bind(window);
  const audio = new Audio();
  audio.preload = "auto";
  audio.preservesPitch = true;
  const clips = new Map(); // delivery key -> Promise of an object URL
  let expected = 0; // deliveries announced as clips and not yet seen
  let chain = Promise.resolve();
  let graph = null; // {context, analyser}, made on the first play

  function keep(key, url) {
    clips.set(key, url);
    while (clips.size > KEPT) {
      const [oldest, old] = clips.entries().next().value;
      clips.delete(oldest);
      old.then(URL.revokeObjectURL, () => {});
    }
  }

  function fetchClip(href) {
    return fetch(href, { credentials: "same-origin" }).then((response) => {
      if (!response.ok) throw new Error(`clip ${href}: HTTP ${response.status}`);
      return response.blob();
    }).then((blob) => URL.createObjectURL(blob));
  }

  function sound() {
    // Web Audio sits between the element and the speakers so the level can be read.
    if (graph === null) {
      const context = new AudioContext();
      const analyser = context.createAnalyser();
      analyser.fftSize = 2048;
      context.createMediaElementSource(audio).connect(analyser);
      analyser.connect(context.destination);
      graph = { context, analyser };
    }
    return graph.context.state === "running" ? Promise.resolve() : graph.context.resume();
  }

  function setRate(rate) {
    audio.defaultPlaybackRate = rate; // survives a new src, which resets playbackRate
    audio.playbackRate = rate;
  }

  function seekTo(at) {
    if (Number.isFinite(at) && audio.readyState > 0) audio.currentTime = at;
  }

  async function run(command) {
    switch (command.op) {
      case "expect":
        expected += 1;
        break;
      case "load": {
        audio.pause();
        const url = clips.get(command.key);
        if (url === undefined) throw new Error(`clip ${command.key} was never delivered`);
        clips.delete(command.key); // most recently used last
        clips.set(command.key, url);
        audio.src = await url;
        setRate(command.rate);
        await new Promise((resolve, reject) => {
          audio.addEventListener("loadedmetadata", resolve, { once: true });
          audio.addEventListener("error", () => reject(audio.error), { once: true });
        });
        break;
      }
      case "unload":
        audio.pause();
        audio.removeAttribute("src");
        audio.load();
        break;
      case "play":
        setRate(command.rate);
        seekTo(command.at);
        await sound();
        await audio.play();
        break;
      case "pause":
        audio.pause();
        seekTo(command.at);
        break;
      case "seek":
        seekTo(command.at);
        break;
      case "rate":
        setRate(command.rate);
        break;
      default:
        throw new Error(`unknown player command ${command.op}`);
    }
  }

  window.open = (url, target, features) => {
    const text = String(url);
    if (text.startsWith(PREFIX)) {
      const command = JSON.parse(decodeURIComponent(text.slice(PREFIX.length)));
      chain = chain.then(() => run(command)).catch((error) => console.error("wuwb player:", error));
      return null;
    }
    const download = /\/download\/([^/?]+)/.exec(new URL(text, location.href).pathname);
    if (download !== null && expected > 0) {
      expected -= 1;
      const url = fetchClip(text);
      url.catch((error) => console.error("wuwb player:", error));
      keep(download[1], url);
      return null;
    }
    return browserOpen(url, target, features);
  };

  // For the browser test and the benchmark: the element, and the level it is playing at.
  window.wuwbPlayer = {
    audio,
    peak() {
      if (graph === null) return 0;
      const samples = new Float32Array(graph.analyser.fftSize);
      graph.analyser.getFloatTimeDomainData(samples);
      return samples.reduce((top, value) => Math.max(top, Math.abs(value)), 0);
    },
  };
})();
