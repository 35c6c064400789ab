/*
  Staff pages, progressively enhanced: everything here also works without JavaScript.

  Character counts, after the GOV.UK Design System's Character count component: a field with
  data-maxlength shows how many characters are left, counting down as people type. It lets them go over
  (the browser never cuts text off) and then says by how much; the server refuses the save with an error
  and keeps the text. Screen readers hear the count through a polite live region, updated after a pause
  in typing so it does not talk over every key.

  Conflict choices: on the conflict page, the "Edit both" box of a field shows only when "Edit both" is
  chosen (without JavaScript it is always shown, and used only for that choice).
*/
(function () {
  "use strict";

  function plural(n, word) {
    return n.toLocaleString("en-GB") + " " + word + (n === 1 ? "" : "s");
  }

  function countMessage(limit, used) {
    var left = limit - used;
    if (left >= 0) {
      return { text: "You have " + plural(left, "character") + " remaining", over: false };
    }
    return { text: "You have " + plural(-left, "character") + " too many", over: true };
  }

  function enhanceCount(group) {
    var field = group.querySelector("[data-maxlength]");
    var message = group.querySelector(".character-count__message");
    if (!field || !message) { return; }
    var limit = parseInt(field.getAttribute("data-maxlength"), 10);
    if (!(limit > 0)) { return; }
    // The visible count is for sighted users; the live region repeats it for screen readers.
    var live = document.createElement("div");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    message.parentNode.insertBefore(live, message.nextSibling);
    message.setAttribute("aria-hidden", "true");
    var timer = null;

    function update(announce) {
      var result = countMessage(limit, Array.from(field.value).length);
      message.textContent = result.text;
      message.classList.toggle("character-count__message--over", result.over);
      field.classList.toggle("input--over", result.over);
      if (announce) {
        window.clearTimeout(timer);
        timer = window.setTimeout(function () { live.textContent = result.text; }, 1000);
      }
    }
    field.addEventListener("input", function () { update(true); });
    update(false);
  }

  function enhanceChoices(block) {
    var editor = block.querySelector(".resolve__both");
    var radios = block.querySelectorAll("input[type=radio]");
    if (!editor || !radios.length) { return; }
    function sync() {
      var chosen = block.querySelector("input[type=radio]:checked");
      editor.hidden = !(chosen && chosen.value === "both");
    }
    Array.prototype.forEach.call(radios, function (radio) { radio.addEventListener("change", sync); });
    sync();
  }

  /* Live preview: the form's unsaved text rendered by the server with the real article page (as a
     candidate or as staff), shown in a sandboxed frame and refreshed after a pause in typing. */
  function enhanceLivePreview(section) {
    var form = document.querySelector("form.article-form");
    var frame = section.querySelector("iframe");
    if (!form || !frame || !window.fetch || !window.FormData) { return; }
    section.hidden = false;
    var timer = null;
    var pending = null;

    function audience() {
      var chosen = section.querySelector("input[name=live-preview-as]:checked");
      return chosen ? chosen.value : "candidate";
    }

    function refresh() {
      var url = section.getAttribute("data-url");
      url += (url.indexOf("?") < 0 ? "?" : "&") + "as=" + encodeURIComponent(audience());
      var data = new FormData(form);
      data.delete("action");
      var mine = {};
      pending = mine;
      window.fetch(url, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(function (html) { if (pending === mine) { frame.srcdoc = html; } })
        .catch(function () { /* the Preview buttons still work */ });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 600);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    section.addEventListener("change", refresh);
    refresh();
  }

  /* A small Markdown toolbar above the long text fields: each button inserts plain Markdown around the
     selection (or a placeholder to type over), so what is saved is always the text people can see. */
  var MARKDOWN_TOOLS = [
    { label: "Bold", before: "**", after: "**", placeholder: "bold text" },
    { label: "Link", before: "[", after: "](https://)", placeholder: "link text" },
    { label: "Contact link", before: "[", after: "](mailto:)", placeholder: "who to contact" },
    { label: "List item", before: "\n- ", after: "", placeholder: "list item", line: true },
    { label: "Heading", before: "\n## ", after: "", placeholder: "Heading", line: true },
  ];

  function insertMarkdown(field, tool) {
    var start = field.selectionStart;
    var end = field.selectionEnd;
    var chosen = field.value.slice(start, end) || tool.placeholder;
    var before = tool.before;
    if (tool.line && (start === 0 || field.value.charAt(start - 1) === "\n")) { before = before.slice(1); }
    var text = before + chosen + tool.after;
    field.setRangeText(text, start, end, "end");
    var chosenStart = start + before.length;
    field.setSelectionRange(chosenStart, chosenStart + chosen.length);
    field.focus();
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function addToolbar(field) {
    var label = document.querySelector("label[for='" + field.id + "']");
    var bar = document.createElement("div");
    bar.className = "markdown-toolbar";
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "Formatting for " + (label ? label.textContent.trim() : "this field"));
    MARKDOWN_TOOLS.forEach(function (tool) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button button--secondary button--small";
      button.textContent = tool.label;
      button.addEventListener("click", function () { insertMarkdown(field, tool); });
      bar.appendChild(button);
    });
    field.parentNode.insertBefore(bar, field);
  }

  document.querySelectorAll("[data-module=character-count]").forEach(enhanceCount);
  document.querySelectorAll("form.article-form textarea#body, form.article-form textarea#contact_public, "
    + "form.article-form textarea#contact_internal").forEach(addToolbar);
  document.querySelectorAll("#live-preview[data-url]").forEach(enhanceLivePreview);
  document.querySelectorAll("[data-module=resolve]").forEach(enhanceChoices);
})();
