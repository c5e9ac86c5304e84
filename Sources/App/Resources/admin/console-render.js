// telebot operators' console: the customer page (entitlements, grants, payments, events, audit, subscriptions),
// loaded before console.js, which makes it with `window.ConsoleRender(actions)`; actions are console.js's own
// (`askRefund`, `retry`, `userLabel`). Text is always set with textContent, never parsed as HTML.
window.ConsoleRender = function (actions) {
  "use strict";

  const { formatDate, formatAmount, text, cell, badge, badgeCell, clear, emptyRow, emptyItem, button } = window.ConsoleFormat;
  const $ = (id) => document.getElementById(id);
  const { askRefund, retry, userLabel } = actions;

  function renderCustomer(data) {
    const user = data.user || {};
    $("customer-title").textContent = "Customer " + userLabel(user);
    const summary = $("customer-summary");
    clear(summary);
    const fields = [["User id", user.id], ["Telegram id", user.telegram_id], ["Username", user.username ? "@" + user.username : null],
                    ["Name", user.first_name], ["First seen", formatDate(user.created_at)]];
    for (const [label, value] of fields) {
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.textContent = text(value);
      summary.append(dt, dd);
    }
    renderEntitlements(data.entitlements || []);
    renderGrants(data.grants || []);
    renderInvoices(data.invoices || [], user);
    renderEvents($("customer-events"), data.payment_events || [], false);
    renderChanges(data.changes || []);
    renderSubscriptions(data);
    $("customer").hidden = false;
    $("customer").dataset.telegramId = String(user.telegram_id);
    document.body.dataset.customer = String(user.telegram_id);
  }

  function renderEntitlements(entitlements) {
    const tbody = $("entitlements");
    clear(tbody);
    if (entitlements.length === 0) return emptyRow(tbody, 4, "No access, current or past.");
    for (const e of entitlements) {
      const tr = document.createElement("tr");
      tr.dataset.plan = e.plan;
      tr.dataset.status = e.status;
      cell(tr, e.plan);
      badgeCell(tr, e.status);
      cell(tr, formatDate(e.expires_at));
      cell(tr, e.source);
      tbody.appendChild(tr);
    }
  }

  function renderGrants(grants) {
    const list = $("grants");
    clear(list);
    if (grants.length === 0) return emptyItem(list, "No grants.");
    for (const g of grants) {
      const li = document.createElement("li");
      li.dataset.state = g.state || "";
      const head = document.createElement("div");
      head.className = "row";
      const title = document.createElement("strong");
      title.textContent = text(g.plan) + " from " + text(g.source);
      head.append(title, badge(g.state));
      const span = document.createElement("div");
      span.className = "hint";
      const days = g.starts_at || g.ends_at ? formatDate(g.starts_at) + " → " + formatDate(g.ends_at) : "gives no days";
      span.textContent = days + (g.purchased_at ? " · bought " + formatDate(g.purchased_at) : "") +
        (g.cut_at ? " · cut " + formatDate(g.cut_at) : "") + (g.grace ? " · grace" : "");
      const payment = document.createElement("div");
      payment.className = "hint mono";
      payment.textContent = text(g.payment_key || (g.payment && (g.payment.id || g.payment.key)));
      li.append(head, span, payment);
      list.appendChild(li);
    }
  }

  function paymentRef(invoice) {
    return invoice.provider_invoice_id || invoice.payment_id || invoice.charge_id || invoice.invoice_id ||
      (typeof invoice.id === "string" ? invoice.id : null);
  }

  function renderInvoices(invoices, user) {
    const tbody = $("invoices");
    clear(tbody);
    if (invoices.length === 0) return emptyRow(tbody, 7, "No payments.");
    for (const inv of invoices) {
      const ref = paymentRef(inv);
      const tr = document.createElement("tr");
      tr.dataset.invoice = ref || "";
      tr.dataset.status = inv.status;
      cell(tr, formatDate(inv.created_at));
      cell(tr, inv.provider);
      cell(tr, ref, "mono");
      cell(tr, inv.plan);
      cell(tr, formatAmount(inv.amount, inv.currency), "num");
      badgeCell(tr, inv.status);
      const actions = document.createElement("td");
      if (inv.status === "paid" && ref) {
        const amount = formatAmount(inv.amount, inv.currency);
        actions.appendChild(button("Refund", "danger small refund", () => askRefund(inv, ref, user),
                                   "Refund " + amount + " (" + ref + ")"));
      }
      tr.appendChild(actions);
      tbody.appendChild(tr);
    }
  }

  function renderEvents(tbody, events, withEventID) {
    clear(tbody);
    const columns = withEventID ? 8 : 6;
    if (events.length === 0) {
      if (!withEventID) emptyRow(tbody, columns, "No payment events.");
      return;
    }
    for (const ev of events) {
      const tr = document.createElement("tr");
      tr.dataset.eventId = String(ev.id);
      tr.dataset.status = ev.status;
      cell(tr, formatDate(ev.received_at));
      cell(tr, ev.provider);
      if (withEventID) cell(tr, ev.event_id, "mono");
      cell(tr, ev.event_type);
      badgeCell(tr, ev.status);
      if (withEventID) cell(tr, ev.attempts, "num");
      cell(tr, ev.error, ev.error ? "error-text" : "");
      const actions = document.createElement("td");
      if (ev.status === "failed" || ev.status === "dead") {
        actions.appendChild(button("Retry", "secondary small retry", () => retry(ev), "Retry event " + ev.id));
      }
      tr.appendChild(actions);
      tbody.appendChild(tr);
    }
  }

  function renderChanges(changes) {
    const list = $("changes");
    clear(list);
    if (changes.length === 0) return emptyItem(list, "No recorded changes.");
    for (const c of changes) {
      const li = document.createElement("li");
      li.dataset.action = c.action || "";
      const when = formatDate(c.created_at);
      const status = (c.before_status ? c.before_status + " → " : "") + text(c.after_status);
      const until = c.after_expires_at ? " until " + formatDate(c.after_expires_at) : "";
      const why = [c.actor, c.reason].filter(Boolean).join(": ");
      li.textContent = when + " · " + text(c.plan) + " " + text(c.action) + " · " + status + until + (why ? " · " + why : "");
      list.appendChild(li);
    }
  }

  function renderSubscriptions(data) {
    const list = $("subscriptions");
    clear(list);
    const items = [];
    for (const s of data.stripe_subscriptions || []) {
      items.push("Stripe " + s.subscription_id + " · " + text(s.plan) + " · " + s.status +
        (s.cancel_at_period_end ? " · cancels at period end" : "") +
        (s.current_period_end ? " · period ends " + formatDate(s.current_period_end) : "") +
        (s.ended_at ? " · ended " + formatDate(s.ended_at) : ""));
    }
    for (const s of data.stars_subscriptions || []) {
      items.push("Stars " + s.first_charge_id + " · " + text(s.plan) + (s.canceled ? " · canceled" : " · renewing") +
        (s.expires_at ? " · until " + formatDate(s.expires_at) : ""));
    }
    if (items.length === 0) items.push("No subscriptions.");
    for (const line of items) {
      const li = document.createElement("li");
      li.textContent = line;
      list.appendChild(li);
    }
  }

  return { renderCustomer, renderEvents };
};
