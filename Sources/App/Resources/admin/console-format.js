// telebot operators' console: formatting and DOM helpers (no state, no API calls), loaded before console.js, which
// takes them from `window.ConsoleFormat`. Text is always set with textContent, never parsed as HTML.
window.ConsoleFormat = (function () {
  "use strict";

  function formatDate(iso) {
    if (!iso) return "—";
    const date = new Date(iso);
    if (isNaN(date.getTime())) return String(iso);
    return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z").replace(/:\d\dZ$/, " UTC");
  }

  function formatAmount(amount, currency) {
    if (amount === null || amount === undefined) return "—";
    if (currency === "XTR") return amount + " Stars";
    try {
      return new Intl.NumberFormat("en", { style: "currency", currency }).format(amount / 100);
    } catch (_) {
      return (amount / 100).toFixed(2) + " " + currency;
    }
  }

  function text(value) {
    return value === null || value === undefined || value === "" ? "—" : String(value);
  }

  function cell(row, value, className) {
    const td = document.createElement("td");
    td.textContent = text(value);
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function badge(status) {
    const span = document.createElement("span");
    span.className = "badge " + String(status || "unknown").replace(/[^a-z_]/g, "");
    span.textContent = String(status || "unknown").replace(/_/g, " ");
    return span;
  }

  function badgeCell(row, status) {
    const td = document.createElement("td");
    td.appendChild(badge(status));
    row.appendChild(td);
    return td;
  }

  function clear(element) {
    while (element.firstChild) element.removeChild(element.firstChild);
  }

  function emptyRow(tbody, columns, message) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = columns;
    td.className = "hint";
    td.textContent = message;
    tr.appendChild(td);
    tbody.appendChild(tr);
  }

  function emptyItem(list, message) {
    const li = document.createElement("li");
    li.className = "hint";
    li.textContent = message;
    list.appendChild(li);
  }

  function button(label, className, onClick, accessibleName) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = className;
    b.textContent = label;
    if (accessibleName) b.setAttribute("aria-label", accessibleName);
    b.addEventListener("click", onClick);
    return b;
  }

  return { formatDate, formatAmount, text, cell, badge, badgeCell, clear, emptyRow, emptyItem, button };
})();
