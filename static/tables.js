/* Tables on a phone: each data cell gets its column's header as data-label, so style.css can
 * show a wide table (four columns or more) as one card per row below 40rem, each value named,
 * instead of a table wider than the screen (not a table marked "no-cards", one of numbers that
 * fits as it is). Without JavaScript the table stays a table. */
(function () {
  "use strict";
  document.querySelectorAll("main table").forEach(function (table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head || head.cells.length < 4 || table.classList.contains("no-cards")) return;
    var labels = [];
    Array.prototype.forEach.call(head.cells, function (th) {
      for (var i = 0; i < (th.colSpan || 1); i++) labels.push(th.textContent.trim());
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (labels[column] && cell.colSpan < labels.length) cell.setAttribute("data-label", labels[column]);
          column += cell.colSpan || 1;
        });
      });
    });
    table.classList.add("cards");
  });
})();
