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

  document.querySelectorAll("[data-module=character-count]").forEach(enhanceCount);
  document.querySelectorAll("[data-module=resolve]").forEach(enhanceChoices);
})();
