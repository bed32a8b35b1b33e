// Helsebro clinician view: small enhancements only. Everything works without this script (sorting is a
// link, collapsed lists are <details>); with it, the print button appears and printing includes every
// collapsed row. Served from /view/assets/ under a CSP that allows no inline script.
(function () {
  'use strict';
  var opened = [];

  function openAll() {
    opened = [];
    document.querySelectorAll('details:not([open])').forEach(function (d) {
      d.open = true;
      opened.push(d);
    });
  }

  function restore() {
    opened.forEach(function (d) {
      d.open = false;
    });
    opened = [];
  }

  window.addEventListener('beforeprint', openAll);
  window.addEventListener('afterprint', restore);

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('[data-print]').forEach(function (button) {
      button.hidden = false;
      button.addEventListener('click', function () {
        window.print();
      });
    });
  });
})();
