/* Type-ahead for every search box that has data-suggest-url: an ARIA combobox with a listbox popup
   (WAI-ARIA Authoring Practices, "combobox with listbox popup"). Suggestions come from /api/suggest as
   {title, acronym, url}; choosing one opens that capability's page. Keyboard focus stays in the box; the
   highlighted option is conveyed with aria-activedescendant, and a polite status says how many there are.
   Without JavaScript the box is a plain search field that submits to /search. */
(() => {
  "use strict";

  const DELAY_MS = 150; // after the last keystroke, so a fast typist sends one request, not one per key
  const MIN_LENGTH = 2;

  if (!window.fetch || !window.AbortController) { return; }

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) { node.setAttribute(name, value); }
    if (text) { node.textContent = text; }
    return node;
  }

  // Only ever follow a suggestion to a page of this site.
  function sameSite(address) {
    try {
      const url = new URL(address, window.location.href);
      return url.origin === window.location.origin ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  class Combobox {
    constructor(input) {
      this.input = input;
      this.endpoint = input.dataset.suggestUrl;
      this.suggestions = [];
      this.active = -1;
      this.timer = 0;
      this.request = null;
      this.current = true; // the list answers what is in the box now
      this.pendingStep = 0; // an arrow pressed before the answer came: applied when it does

      this.listbox = element("ul", {
        id: `${input.id}-suggestions`,
        role: "listbox",
        class: "combobox__listbox",
        "aria-label": "Suggested capabilities",
      });
      this.listbox.hidden = true;
      this.status = element("div", { id: `${input.id}-status`, class: "visually-hidden", role: "status" });

      input.setAttribute("role", "combobox");
      input.setAttribute("aria-autocomplete", "list");
      input.setAttribute("aria-expanded", "false");
      input.setAttribute("aria-controls", this.listbox.id);
      input.parentElement.classList.add("combobox");
      input.after(this.listbox);
      (input.form || input.parentElement).append(this.status);

      input.addEventListener("input", () => this.typed());
      input.addEventListener("keydown", (event) => this.key(event));
      input.addEventListener("blur", () => this.close());
      // Keep focus in the box while the mouse presses an option, so the click can choose it.
      this.listbox.addEventListener("mousedown", (event) => event.preventDefault());
      this.listbox.addEventListener("click", (event) => {
        const option = event.target.closest("[role=option]");
        if (option) { this.choose(Number(option.dataset.index)); }
      });
      if (input.form) { input.form.addEventListener("submit", () => this.close()); }
    }

    get isOpen() { return !this.listbox.hidden; }

    typed() {
      window.clearTimeout(this.timer);
      this.highlight(-1);
      this.current = false;
      const text = this.input.value.trim();
      if (text.length < MIN_LENGTH) {
        this.cancel();
        this.show([]);
        return;
      }
      this.timer = window.setTimeout(() => this.suggest(text), DELAY_MS);
    }

    key(event) {
      if (event.altKey && event.key === "ArrowDown") {
        this.open();
        event.preventDefault();
        return;
      }
      switch (event.key) {
        case "ArrowDown":
        case "ArrowUp": {
          const step = event.key === "ArrowDown" ? 1 : -1;
          if (!this.current) {
            this.pendingStep = step;
            event.preventDefault();
          } else if (this.suggestions.length) {
            this.open();
            this.move(step);
            event.preventDefault();
          }
          break;
        }
        case "Enter":
          if (this.isOpen && this.active >= 0) {
            event.preventDefault(); // open the suggestion instead of submitting the form
            this.choose(this.active);
          }
          break;
        case "Escape":
          if (this.isOpen) {
            event.preventDefault(); // close the list and keep the text (a search box would clear it)
            this.close();
          }
          break;
        case "Tab":
          this.close();
          break;
        default:
          break;
      }
    }

    cancel() {
      window.clearTimeout(this.timer);
      if (this.request) { this.request.abort(); }
      this.request = null;
    }

    suggest(text) {
      this.cancel();
      const request = new AbortController();
      this.request = request;
      return this.ask(text, request);
    }

    async ask(text, request) {
      try {
        const response = await window.fetch(`${this.endpoint}?q=${encodeURIComponent(text)}`, {
          signal: request.signal,
          headers: { Accept: "application/json" },
        });
        const data = response.ok ? await response.json() : { suggestions: [] };
        if (request !== this.request) { return; }
        this.request = null;
        this.show(Array.isArray(data.suggestions) ? data.suggestions : []);
      } catch (error) {
        // Suggestions are a convenience: if they fail, the search box still submits as usual.
        if (error.name !== "AbortError" && request === this.request) { this.show([]); }
      }
    }

    show(suggestions) {
      const step = this.pendingStep;
      this.pendingStep = 0;
      this.current = true;
      this.suggestions = suggestions.filter((item) => item && sameSite(item.url));
      this.active = -1;
      this.input.removeAttribute("aria-activedescendant");
      this.listbox.replaceChildren(...this.suggestions.map((item, index) => {
        // Built from text nodes only: a title can never become markup.
        const option = element("li", {
          id: `${this.listbox.id}-${index}`,
          role: "option",
          class: "combobox__option",
          "aria-selected": "false",
          "data-index": String(index),
        });
        option.append(element("span", { class: "combobox__title" }, item.title));
        if (item.acronym && item.acronym !== item.title) {
          option.append(" ", element("span", { class: "combobox__acronym" }, `(${item.acronym})`));
        }
        return option;
      }));
      if (this.suggestions.length && document.activeElement === this.input) {
        this.open();
        const count = this.suggestions.length;
        this.status.textContent = `${count} ${count === 1 ? "suggestion" : "suggestions"}`;
        if (step) { this.move(step); }
      } else {
        this.close();
      }
    }

    open() {
      if (!this.suggestions.length) { return; }
      this.listbox.hidden = false;
      this.input.setAttribute("aria-expanded", "true");
    }

    close() {
      this.highlight(-1);
      this.listbox.hidden = true;
      this.input.setAttribute("aria-expanded", "false");
    }

    move(step) {
      const count = this.suggestions.length;
      const next = this.active < 0 ? (step > 0 ? 0 : count - 1) : (this.active + step + count) % count;
      this.highlight(next);
    }

    highlight(index) {
      this.active = index;
      for (const option of this.listbox.children) {
        const chosen = Number(option.dataset.index) === index;
        option.setAttribute("aria-selected", chosen ? "true" : "false");
        if (chosen) {
          this.input.setAttribute("aria-activedescendant", option.id);
          option.scrollIntoView({ block: "nearest" });
        }
      }
      if (index < 0) { this.input.removeAttribute("aria-activedescendant"); }
    }

    choose(index) {
      const item = this.suggestions[index];
      const address = item && sameSite(item.url);
      if (!address) { return; }
      this.close();
      window.location.assign(address);
    }
  }

  for (const input of document.querySelectorAll("input[data-suggest-url][id]")) {
    new Combobox(input);
  }
})();
