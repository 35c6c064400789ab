/* Type-ahead on the search page: fills the search box's <datalist> with matching capability titles from
   /api/suggest. The browser draws and announces the list natively. Without JavaScript the page works the
   same, only without suggestions. */
(function () {
  "use strict";
  var input = document.getElementById("search-q");
  var list = document.getElementById("search-suggestions");
  if (!input || !list || !window.fetch || !input.dataset.suggestUrl) { return; }
  var timer = null;
  var asked = "";

  function show(suggestions) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    suggestions.forEach(function (item) {
      var option = document.createElement("option");
      option.value = item.title;
      if (item.acronym && item.acronym !== item.title) { option.label = item.acronym; }
      list.appendChild(option);
    });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      var text = input.value.trim();
      if (text.length < 2 || text === asked) { return; }
      asked = text;
      fetch(input.dataset.suggestUrl + "?q=" + encodeURIComponent(text), { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (data) { if (text === asked) { show(data.suggestions || []); } })
        .catch(function () { /* suggestions are a nicety: the search itself still works */ });
    }, 150);
  });
}());
