// telebot operators' console: no framework, no build step. Every action is one call to the /admin/v1 API, which
// checks the token and logs (and audits) the action itself. The admin token lives in `state.token` only: never in
// localStorage, sessionStorage, cookies or the URL, so closing or reloading the tab forgets it.
(function () {
  "use strict";

  const state = { token: null, customer: null, pendingConfirm: null };
  const $ = (id) => document.getElementById(id);

  // ---- HTTP -------------------------------------------------------------------------------------------------------

  async function api(method, path, body) {
    if (!state.token) throw Object.assign(new Error("enter the admin token first"), { status: 401 });
    const init = { method, headers: { Accept: "application/json", Authorization: "Bearer " + state.token },
                   cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      const detail = (data && (data.detail || data.title)) || response.statusText || "request failed";
      const error = new Error(detail);
      error.status = response.status;
      if (response.status === 401) lock("The admin token was refused: enter it again.");
      throw error;
    }
    return data;
  }

  // ---- formatting -------------------------------------------------------------------------------------------------

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

  function button(label, className, onClick, accessibleName) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = className;
    b.textContent = label;
    if (accessibleName) b.setAttribute("aria-label", accessibleName);
    b.addEventListener("click", onClick);
    return b;
  }

  // ---- messages ---------------------------------------------------------------------------------------------------

  function notice(message) {
    $("error").hidden = true;
    $("notice").textContent = message;
    $("notice").hidden = false;
  }

  function fail(error) {
    const el = $("error");
    el.textContent = (error && error.status ? error.status + ": " : "") + ((error && error.message) || String(error));
    el.hidden = false;
    $("notice").hidden = true;
  }

  // ---- token ------------------------------------------------------------------------------------------------------

  function lock(message) {
    state.token = null;
    state.customer = null;
    state.pendingConfirm = null;
    closeConfirm();
    $("customer").hidden = true; // no customer data left on screen for the next operator
    clear($("matches"));
    $("console").hidden = true;
    $("unlock").hidden = false;
    $("lock").hidden = true;
    $("session").textContent = message || "Locked: enter the admin token to start.";
    document.body.dataset.state = "locked";
    $("token").focus();
  }

  async function unlock(event) {
    event.preventDefault();
    const input = $("token");
    const token = input.value.trim();
    input.value = ""; // the field never keeps it
    if (!token) return;
    state.token = token;
    try {
      // Any cheap admin call proves the token; the dead-events list is wanted anyway.
      await loadDeadEvents();
    } catch (error) {
      if (error.status === 401 || !state.token) {
        lock("The admin token was refused.");
        return;
      }
      fail(error);
    }
    $("unlock").hidden = true;
    $("console").hidden = false;
    $("lock").hidden = false;
    $("session").textContent = "Unlocked (token kept in this tab's memory only).";
    document.body.dataset.state = "unlocked";
    loadRuns().catch(fail);
    $("query").focus();
  }

  // ---- customer lookup --------------------------------------------------------------------------------------------

  async function search(event) {
    event.preventDefault();
    const query = $("query").value.trim();
    if (!query) return;
    clear($("matches"));
    $("matches").hidden = true;
    try {
      if (/^\d+$/.test(query)) {
        try {
          await openCustomer(query);
          return;
        } catch (error) {
          if (error.status !== 404) throw error;
        }
      }
      const data = await api("GET", "/admin/v1/users?query=" + encodeURIComponent(query) + "&limit=20");
      const users = (data && (data.users || data.results)) || [];
      if (users.length === 0) {
        $("customer").hidden = true;
        notice("No customer matches “" + query + "”.");
        return;
      }
      if (users.length === 1) {
        await openCustomer(users[0].telegram_id);
        return;
      }
      showMatches(users);
    } catch (error) {
      fail(error);
    }
  }

  function userLabel(user) {
    const parts = [];
    if (user.first_name) parts.push(user.first_name);
    if (user.username) parts.push("@" + user.username);
    parts.push("Telegram " + user.telegram_id);
    return parts.join(" · ");
  }

  function showMatches(users) {
    const list = $("matches");
    for (const user of users) {
      const li = document.createElement("li");
      li.appendChild(button(userLabel(user), "link", () => openCustomer(user.telegram_id).catch(fail)));
      list.appendChild(li);
    }
    list.hidden = false;
    notice(users.length + " customers match; choose one.");
  }

  // keepMessages: a reload after an action keeps the action's notice on screen.
  async function openCustomer(telegramID, keepMessages) {
    const data = await api("GET", "/admin/v1/users/" + encodeURIComponent(telegramID));
    state.customer = data;
    renderCustomer(data);
    if (!keepMessages) {
      $("notice").hidden = true;
      $("error").hidden = true;
    }
  }

  async function reloadCustomer() {
    if (state.customer && state.customer.user) await openCustomer(state.customer.user.telegram_id, true);
  }

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
    if (grants.length === 0) {
      const li = document.createElement("li");
      li.className = "hint";
      li.textContent = "No grants.";
      list.appendChild(li);
      return;
    }
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
    if (changes.length === 0) {
      const li = document.createElement("li");
      li.className = "hint";
      li.textContent = "No recorded changes.";
      list.appendChild(li);
      return;
    }
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

  // ---- actions ----------------------------------------------------------------------------------------------------

  function askRefund(invoice, ref, user) {
    const amount = formatAmount(invoice.amount, invoice.currency);
    const who = user ? userLabel(user) : "this customer";
    const stripe = invoice.provider === "stripe";
    $("confirm-title").textContent = "Refund " + amount + "?";
    $("confirm-text").textContent = "Refund " + amount + " of " + (stripe ? "Stripe payment " : "Stars payment ") + ref +
      " to " + who + ". This returns the money through " + (stripe ? "Stripe" : "Telegram") +
      " and ends the access this payment bought. It cannot be undone.";
    $("confirm-ok").textContent = "Refund " + amount;
    $("confirm-reason-row").hidden = !stripe;
    $("confirm-reason").value = "requested_by_customer";
    state.pendingConfirm = async () => {
      let body;
      let path;
      if (stripe) {
        path = "/admin/v1/stripe/refunds";
        body = ref.startsWith("pi_") ? { payment_intent: ref } : { invoice_id: ref };
        body.reason = $("confirm-reason").value;
      } else {
        path = "/admin/v1/telegram/refunds";
        body = { telegram_payment_charge_id: ref };
      }
      const result = await api("POST", path, body);
      notice("Refunded " + amount + " (" + ref + ")" + (result && result.already ? ", which had been refunded before." : "."));
      await reloadCustomer();
    };
    const dialog = $("confirm");
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    $("confirm-cancel").focus();
  }

  function closeConfirm() {
    const dialog = $("confirm");
    if (typeof dialog.close === "function" && dialog.open) dialog.close();
    else dialog.removeAttribute("open");
  }

  async function confirmOK() {
    const action = state.pendingConfirm;
    state.pendingConfirm = null;
    closeConfirm();
    if (!action) return;
    try {
      await action();
    } catch (error) {
      fail(error);
    }
  }

  async function retry(ev) {
    try {
      const result = await api("POST", "/admin/v1/payment-events/" + encodeURIComponent(ev.id) + "/retry");
      notice("Event " + ev.id + " retried: " + text(result && result.outcome) + ".");
    } catch (error) {
      fail(error);
    }
    await Promise.all([loadDeadEvents().catch(fail), reloadCustomer().catch(fail)]);
  }

  async function scheduler(action) {
    try {
      const result = await api("POST", "/admin/v1/marketing/scheduler/" + action);
      const paused = result && (result.paused !== undefined ? result.paused : result.status === "paused");
      $("scheduler-status").textContent = "Promo posts are " + (paused ? "paused" : "running") +
        (result && result.updated_by ? " (changed by " + result.updated_by + ")" : "") + ".";
      $("scheduler-status").dataset.paused = String(!!paused);
      notice("Promo posts " + (action === "pause" ? "paused." : "resumed."));
    } catch (error) {
      fail(error);
    }
  }

  async function loadDeadEvents() {
    const [dead, failed] = await Promise.all([
      api("GET", "/admin/v1/payment-events?status=dead&limit=50"),
      api("GET", "/admin/v1/payment-events?status=failed&limit=50"),
    ]);
    const events = [].concat((dead && dead.events) || [], (failed && failed.events) || []);
    events.sort((a, b) => String(b.received_at).localeCompare(String(a.received_at)));
    renderEvents($("dead-events"), events, true);
    $("no-dead").hidden = events.length > 0;
  }

  async function loadRuns() {
    const data = await api("GET", "/admin/v1/reconcile/runs?limit=20");
    const runs = (data && data.runs) || [];
    const tbody = $("runs");
    clear(tbody);
    for (const run of runs) {
      const tr = document.createElement("tr");
      tr.dataset.runId = String(run.id);
      cell(tr, formatDate(run.started_at));
      cell(tr, run.provider);
      cell(tr, formatDate(run.window_start) + " → " + formatDate(run.window_end));
      cell(tr, run.seen, "num");
      cell(tr, run.recovered, "num" + (run.recovered > 0 ? " warn" : ""));
      cell(tr, run.failed, "num" + (run.failed > 0 ? " error-text" : ""));
      cell(tr, run.finished_at ? formatDate(run.finished_at) : "running or interrupted");
      tbody.appendChild(tr);
    }
    $("no-runs").hidden = runs.length > 0;
  }

  // ---- wiring -----------------------------------------------------------------------------------------------------

  $("token-form").addEventListener("submit", unlock);
  $("lock").addEventListener("click", () => lock("Token forgotten."));
  $("search-form").addEventListener("submit", search);
  $("reload-dead").addEventListener("click", () => loadDeadEvents().catch(fail));
  $("reload-runs").addEventListener("click", () => loadRuns().catch(fail));
  $("pause").addEventListener("click", () => scheduler("pause"));
  $("resume").addEventListener("click", () => scheduler("resume"));
  $("confirm-ok").addEventListener("click", confirmOK);
  $("confirm-cancel").addEventListener("click", () => {
    state.pendingConfirm = null;
    closeConfirm();
  });
  $("confirm").addEventListener("cancel", () => {
    state.pendingConfirm = null;
  });
  document.body.dataset.state = "locked";
  document.body.dataset.ready = "true";
})();
