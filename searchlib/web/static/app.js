// searchlib's search page, made livelier. Without this script every part of the page still works
// as plain links and a form; with it, results follow the typing, and links that change the search
// (facets, chips, timeline bars, pages, "did you mean") replace only the results.
//
// The server renders the results (the same template as a full page, asked for with the header
// "X-Partial: results"), so all escaping happens on the server and this script never builds HTML
// from article text. The URL always holds the whole search: each change is a history entry
// (typing replaces its own entry rather than adding one a keystroke), so Back and bookmarks work.
"use strict";

(function () {
  const DEBOUNCE_MS = 150;
  const form = document.getElementById("search-form");
  const box = document.getElementById("q");
  const region = document.getElementById("results"); // absent on an article page
  let pending = null; // the AbortController of the request under way
  let timer = 0;
  let typedAt = 0; // when the keystroke that the next results answer was made
  window.searchlibTimings = []; // {query, keystrokeToPaint, requestToPaint} in ms, for benchmarks

  // The search the URL holds, with the visible fields of the form applied.
  function urlFromForm(changed) {
    const url = new URL(window.location.href);
    url.pathname = "/";
    const params = url.searchParams;
    const fields = changed ? [changed] : Array.from(form.elements).filter((el) => el.name && el.type !== "hidden");
    for (const field of fields) {
      if (field.type === "checkbox") {
        if (field.checked) params.set(field.name, field.value); else params.delete(field.name);
      } else if (field.value.trim() && !(field.name === "sort" && field.value === "relevance")) {
        params.set(field.name, field.value.trim());
      } else {
        params.delete(field.name);
      }
    }
    params.delete("page");
    return url;
  }

  // Make the form show the search of the URL (after Back, or a link that changed it).
  function syncForm(everything) {
    const params = new URL(window.location.href).searchParams;
    for (const field of form.elements) {
      if (!field.name || field.type === "hidden" || field.type === "submit") continue;
      if (field === box && document.activeElement === box && !everything) continue; // not under the cursor
      if (field.type === "checkbox") field.checked = params.has(field.name);
      else field.value = params.get(field.name) || (field.name === "sort" ? "relevance" : "");
    }
  }

  async function load(url, how) {
    if (pending) pending.abort();
    pending = new AbortController();
    const asked = performance.now();
    region.setAttribute("aria-busy", "true");
    let response;
    try {
      // Not from or into the HTTP cache: the same URL is also the whole page, which Back reloads.
      response = await fetch(url, { headers: { "X-Partial": "results" }, signal: pending.signal, cache: "no-store" });
    } catch (error) {
      if (error.name === "AbortError") return;
      window.location.assign(url); // the network failed: let the browser show what it can
      return;
    }
    const html = await response.text();
    if (how === "push") history.pushState({ typed: false }, "", url);
    else if (how === "typed") {
      const typing = history.state && history.state.typed;
      history[typing ? "replaceState" : "pushState"]({ typed: true }, "", url);
    }
    region.innerHTML = html;
    region.removeAttribute("aria-busy");
    const query = new URL(url, window.location.href).searchParams.get("q");
    document.title = (query ? query + " · " : "") + document.body.dataset.archive + " · searchlib";
    if (how !== "typed") syncForm(how === "none");
    const started = typedAt;
    // Two frames later the new results have been painted.
    requestAnimationFrame(() => requestAnimationFrame(() => {
      const now = performance.now();
      window.searchlibTimings.push({
        query: box.value, keystrokeToPaint: started ? now - started : null, requestToPaint: now - asked,
      });
      region.dispatchEvent(new CustomEvent("searchlib:painted", { bubbles: true }));
    }));
    typedAt = 0;
  }

  if (region) {
    box.addEventListener("input", () => {
      typedAt = performance.now();
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (box.value.trim()) load(urlFromForm(box).toString(), "typed");
      }, DEBOUNCE_MS);
    });

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      clearTimeout(timer);
      load(urlFromForm().toString(), "push");
    });

    form.addEventListener("change", (event) => {
      if (event.target !== box && event.target.name) load(urlFromForm(event.target).toString(), "push");
    });

    document.addEventListener("click", (event) => {
      const link = event.target.closest("a[data-nav]");
      if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      load(link.href, "push");
      if (link.closest("#results")) region.focus({ preventScroll: true });
      window.scrollTo({ top: 0 });
    });

    window.addEventListener("popstate", () => {
      load(window.location.href, "none");
    });
  }

  // Keyboard: "/" goes to the search box; the arrows move from it through the hits and back.
  function hitLinks() {
    return Array.from(document.querySelectorAll("#results .hit-link"));
  }
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target.matches("input, select, textarea") || target.isContentEditable;
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      box.focus();
      box.select();
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    if (typing && target !== box) return;
    const links = hitLinks();
    if (!links.length) return;
    const at = links.indexOf(target);
    if (target === box) {
      if (event.key === "ArrowDown") { event.preventDefault(); links[0].focus(); }
      return;
    }
    if (at < 0) return;
    event.preventDefault();
    if (event.key === "ArrowDown") links[Math.min(at + 1, links.length - 1)].focus();
    else if (at === 0) box.focus();
    else links[at - 1].focus();
  });

  if (region) {
    region.setAttribute("tabindex", "-1");
    history.replaceState({ typed: false }, "", window.location.href);
  }
})();
