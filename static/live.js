// herold: small progressive enhancements; every page works without this file.
// 1. Elements with data-poll="URL" get their contents refreshed from URL every 2 seconds.
// 2. A textarea with data-sms-counter="ID" shows its SMS encoding and parts in element ID (its words
//    come from that element's data-l-* attributes, in the admin's language).
// 3. A file input with data-read-into="ID" puts the chosen file's text into the textarea ID.
// 4. A sandbox phone's screen shows its newest message (scrolled to the end), as a phone does.
(function () {
  "use strict";
  function newest() {
    document.querySelectorAll(".screen").forEach(function (s) { s.scrollTop = s.scrollHeight; });
  }
  newest();
  document.querySelectorAll("[data-poll]").forEach(function (el) {
    var url = el.getAttribute("data-poll");
    setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null && html !== el.dataset.last) { el.dataset.last = html; el.innerHTML = html; newest(); } })
        .catch(function () {});
    }, 2000);
  });

  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXT = "\f^{}\\[~]|€";
  function count(text) {
    var chars = Array.from(text), bad = [], septets = 0;
    chars.forEach(function (c) {
      if (BASIC.indexOf(c) >= 0) septets += 1;
      else if (EXT.indexOf(c) >= 0) septets += 2;
      else if (bad.indexOf(c) < 0) bad.push(c);
    });
    var gsm = bad.length === 0;
    var costs = chars.map(function (c) { return gsm ? (EXT.indexOf(c) >= 0 ? 2 : 1) : c.length; });
    var total = costs.reduce(function (a, b) { return a + b; }, 0);
    var single = gsm ? 160 : 70, split = gsm ? 153 : 67, parts = 1, used = 0;
    if (total > single) {
      costs.forEach(function (c) { if (used + c > split) { parts += 1; used = 0; } used += c; });
    }
    return { encoding: gsm ? "GSM-7" : "UCS-2", units: total, parts: text.length ? parts : 0, bad: bad };
  }
  document.querySelectorAll("[data-sms-counter]").forEach(function (ta) {
    var out = document.getElementById(ta.getAttribute("data-sms-counter"));
    function update() {
      var r = count(ta.value);
      var l = out.dataset;
      out.textContent = r.encoding + " · " + r.units + " " + (r.encoding === "GSM-7" ? l.lSeptets || "septets" : l.lUnits || "units") +
        " · " + r.parts + " " + (r.parts === 1 ? l.lPart || "part" : l.lParts || "parts") + (r.bad.length ? " · " + (l.lBecause || "UCS-2 because of") + ": " : "");
      r.bad.forEach(function (c) {
        var m = document.createElement("mark");
        m.textContent = c;
        out.appendChild(m);
        out.appendChild(document.createTextNode(" "));
      });
      out.setAttribute("data-encoding", r.encoding);
      out.setAttribute("data-parts", String(r.parts));
    }
    ta.addEventListener("input", update);
    update();
  });

  // A chosen file is read into its text field (the import page); without script, pasting works too.
  document.querySelectorAll("input[type=file][data-read-into]").forEach(function (input) {
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      var into = document.getElementById(input.getAttribute("data-read-into"));
      if (!file || !into) { return; }
      file.text().then(function (text) { into.value = text; });
    });
  });
})();
