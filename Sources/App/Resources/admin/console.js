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

  // ---- formatting (console-format.js) ----------------------------------------------------------------------------

  const { formatDate, formatAmount, text, cell, badge, badgeCell, clear, emptyRow, button } = window.ConsoleFormat;

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

  const { renderCustomer, renderEvents } = window.ConsoleRender({ askRefund, retry, userLabel });

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
