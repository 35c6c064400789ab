/* Live search on /search. As the reader types (after a pause), ticks a filter, sorts, turns a page or
   removes a filter chip, the page updates in place from /api/search?html=1, which sends the page's own
   changing blocks as the server renders them for readers without JavaScript; nothing is rendered twice.
   The address follows: a pause in typing replaces the history entry (the first pause after a deliberate
   change adds one, so Back returns to it), deliberate changes add entries, and Back and Forward restore
   the search. Result counts are announced once things settle. If the API fails, the form submits as a
   normal GET, and the page works the same without JavaScript. */
(() => {
  "use strict";

  const TYPING_DELAY_MS = 250;
  // How long to wait before announcing the count: long enough after typing that a screen reader is not
  // interrupted at every pause, short after a deliberate change.
  const ANNOUNCE_AFTER_TYPING_MS = 1000;
  const ANNOUNCE_AFTER_CHANGE_MS = 150;
  const WIDE = "(min-width: 48em)"; // search.css puts the filters beside the results from here

  const form = document.querySelector("form.search-page");
  const layout = form && form.querySelector("[data-live-url]");
  const input = form && form.elements.q;
  if (!layout || !input || !window.fetch || !window.AbortController || !window.history.pushState) { return; }

  const regions = {
    notices: document.getElementById("search-notices"),
    filter_count: document.getElementById("search-filter-count"),
    facets: document.getElementById("search-facets"),
    results: document.getElementById("search-results"),
  };
  if (Object.values(regions).some((region) => !region)) { return; }

  const filters = form.querySelector("details.search-filters");
  const pagePath = new URL(form.action).pathname;
  const separator = document.title.lastIndexOf(" – "); // before the site's name, which every title ends with
  const titleSuffix = separator >= 0 ? document.title.slice(separator) : "";
  const status = document.createElement("div");
  status.id = "search-status";
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  form.append(status);
  form.classList.add("search-page--live");

  // Browsers that cannot style ::details-content keep the filters folded; open them on wide screens.
  if (filters && !CSS.supports("selector(::details-content)") && window.matchMedia(WIDE).matches) {
    filters.open = true;
  }

  let live = true; // false after a failure: from then on the form and links work as without JavaScript
  let request = null;
  let typingTimer = 0;
  let typingPending = false; // keys pressed since the last typing update began
  let announceTimer = 0;
  let typingEntry = false; // the current history entry was added by typing, so typing may replace it
  let sort = new URLSearchParams(window.location.search).get("sort") || ""; // only a sort the reader chose
  let shown = canonical(window.location.search);

  function canonical(search) {
    return new URLSearchParams(search).toString();
  }

  function inRegions(node) {
    return Object.values(regions).some((region) => region.contains(node));
  }

  /* The search the form describes now: words, ticked filters and the sort the reader chose (page 1). */
  function formSearch() {
    const params = new URLSearchParams();
    if (input.value.trim()) { params.set("q", input.value); }
    for (const box of form.querySelectorAll("input[type=checkbox]:checked")) { params.append(box.name, box.value); }
    if (sort) { params.set("sort", sort); }
    return params;
  }

  /* Parse server HTML without running or loading anything, and accept only what the search page uses. */
  const TAGS = new Set(["a", "br", "button", "div", "fieldset", "h2", "h3", "input", "label", "legend", "li",
    "mark", "nav", "ol", "option", "p", "select", "span", "strong", "ul"]);
  const ATTRIBUTES = /^(aria-[a-z]+|checked|class|for|hidden|href|id|name|rel|selected|start|type|value)$/;

  /* Links in results stay on this site, but for the empty state's e-mail address to the recruitment team. */
  function safeHref(value) {
    const url = new URL(value, window.location.href);
    return url.origin === window.location.origin || url.protocol === "mailto:";
  }

  function fragment(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    for (const node of template.content.querySelectorAll("*")) {
      if (!TAGS.has(node.localName)) { throw new Error(`unexpected <${node.localName}> in search results`); }
      for (const attribute of node.attributes) {
        const allowed = ATTRIBUTES.test(attribute.name) && (attribute.name !== "href" || safeHref(attribute.value));
        if (!allowed) { throw new Error(`unexpected ${attribute.name} on <${node.localName}> in search results`); }
      }
    }
    return template.content;
  }

  function textOf(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    return template.content.textContent.replace(/\s+/g, " ").trim();
  }

  function render(html) {
    const parts = Object.fromEntries(Object.keys(regions).map((name) => [name, fragment(html[name] || "")]));
    const focused = document.activeElement;
    const focusWasInside = focused && focused !== document.body && inRegions(focused);
    for (const [name, region] of Object.entries(regions)) { region.replaceChildren(parts[name]); }
    document.title = textOf(html.title || "") + titleSuffix;
    if (focusWasInside) {
      // The same control if it is still there (a ticked box, the sort); otherwise the count, at the top of
      // the new results, rather than losing focus to the top of the page.
      const same = focused.id && document.getElementById(focused.id);
      if (same) { same.focus(); } else { focusCount(); }
    }
  }

  function focusCount() {
    const count = document.getElementById("result-count");
    if (!count) { return; }
    count.setAttribute("tabindex", "-1");
    count.focus();
  }

  function announce(delay) {
    window.clearTimeout(announceTimer);
    announceTimer = window.setTimeout(() => {
      const count = document.getElementById("result-count");
      if (count) { status.textContent = count.textContent.replace(/\s+/g, " ").trim(); }
    }, delay);
  }

  function remember(query, how) {
    if (how === "restore") {
      typingEntry = false;
      return;
    }
    const address = pagePath + (query ? `?${query}` : "");
    if (query !== canonical(window.location.search)) {
      if (how === "typing" && typingEntry) {
        window.history.replaceState(null, "", address);
      } else {
        window.history.pushState(null, "", address);
      }
    }
    typingEntry = how === "typing";
  }

  /* Ask for this search and show it. how: "typing", "change" (deliberate) or "restore" (Back/Forward). */
  async function update(params, how, then) {
    window.clearTimeout(typingTimer);
    typingPending = false;
    window.clearTimeout(announceTimer);
    if (request) { request.abort(); }
    const mine = new AbortController();
    request = mine;
    const query = params.toString();
    const address = pagePath + (query ? `?${query}` : "");
    try {
      const response = await window.fetch(`${layout.dataset.liveUrl}?${query}${query ? "&" : ""}html=1`, {
        signal: mine.signal,
        headers: { Accept: "application/json" },
      });
      if (!response.ok) { throw new Error(`search answered ${response.status}`); }
      const data = await response.json();
      if (mine !== request) { return; }
      render(data.html || {});
    } catch (error) {
      if (error.name === "AbortError" || mine !== request) { return; }
      giveUp(error, address, how);
      return;
    }
    request = null;
    shown = query;
    remember(query, how);
    // An answer that arrives while the reader is still typing is shown, but not announced: it is stale.
    if (!typingPending) { announce(how === "typing" ? ANNOUNCE_AFTER_TYPING_MS : ANNOUNCE_AFTER_CHANGE_MS); }
    if (then) { then(); }
  }

  /* The API failed (or sent something unexpected): go on as if there were no JavaScript. */
  function giveUp(error, address, how) {
    live = false;
    request = null;
    form.classList.remove("search-page--live"); // the Sort button is needed again
    if (window.console) { window.console.warn("live search stopped:", error); }
    if (how === "restore") {
      window.location.reload();
    } else if (how === "change") {
      window.location.assign(address);
    }
    // While typing, leave the page be: pressing Search submits the form to the server as usual.
  }

  input.addEventListener("input", () => {
    if (!live) { return; }
    window.clearTimeout(announceTimer);
    window.clearTimeout(typingTimer);
    typingPending = true;
    typingTimer = window.setTimeout(() => update(formSearch(), "typing"), TYPING_DELAY_MS);
  });

  form.addEventListener("change", (event) => {
    const control = event.target;
    if (!live || !inRegions(control)) { return; }
    if (control.name === "sort") { sort = control.value; }
    update(formSearch(), "change");
  });

  form.addEventListener("submit", (event) => {
    if (!live) { return; }
    event.preventDefault();
    const submitter = event.submitter;
    const sortControl = form.elements.sort;
    if (sortControl && submitter && sortControl.parentElement.contains(submitter)) { sort = sortControl.value; }
    const applied = submitter && submitter.classList.contains("search-layout__apply");
    update(formSearch(), "change", applied ? showResults : null);
  });

  // "Apply filters" on a phone: fold the filters away and take the reader to the results.
  function showResults() {
    const summary = filters && filters.querySelector("summary");
    if (summary && window.getComputedStyle(summary).display !== "none") { filters.open = false; }
    focusCount();
  }

  // Links that only change the search (chips, pages, "Did you mean", clearing filters) update in place.
  form.addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (!live || !link || !inRegions(link) || event.defaultPrevented || event.button !== 0
        || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) { return; }
    const url = new URL(link.href);
    if (url.origin !== window.location.origin || url.pathname !== pagePath) { return; }
    event.preventDefault();
    input.value = url.searchParams.get("q") || "";
    sort = url.searchParams.get("sort") || "";
    update(url.searchParams, "change");
  });

  window.addEventListener("popstate", () => {
    const query = canonical(window.location.search);
    if (query === shown) { return; } // only the fragment changed, such as the skip link's #main
    if (!live) {
      window.location.reload();
      return;
    }
    const params = new URLSearchParams(window.location.search);
    input.value = params.get("q") || "";
    sort = params.get("sort") || "";
    update(params, "restore");
  });
})();
