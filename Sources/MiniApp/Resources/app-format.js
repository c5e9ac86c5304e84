// telebot Mini App billing page: formatting, storage and idempotency-key helpers (no state, no API calls), loaded
// before app.js, which takes them from `window.MiniAppFormat`.
window.MiniAppFormat = (function () {
  "use strict";

  function formatDate(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    return date.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
  }

  function formatAmount(amount, currency) {
    if (currency === "XTR") return amount + " Stars";
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amount / 100);
    } catch (_) {
      return (amount / 100).toFixed(2) + " " + currency;
    }
  }

  function badge(status) {
    const span = document.createElement("span");
    span.className = "badge " + status;
    span.textContent = status.replace("_", " ");
    return span;
  }

  function storage() {
    try {
      return window.sessionStorage;
    } catch (_) {
      return null; // storage disabled: the fragment still works for this page view
    }
  }

  function newIdempotencyKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return "k-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  return { formatDate, formatAmount, badge, storage, newIdempotencyKey };
})();
