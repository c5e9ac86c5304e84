// telebot Mini App billing page: no framework, no build step.
(function () {
  "use strict";

  const webApp = (window.Telegram && window.Telegram.WebApp) || null;
  const state = { token: null, invoicesCursor: null };
  const $ = (id) => document.getElementById(id);

  function showError(message) {
    const el = $("error");
    el.textContent = message;
    el.hidden = false;
  }

  function newIdempotencyKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return "k-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  async function api(method, path, body, headers) {
    const init = { method, headers: Object.assign({ Accept: "application/json" }, headers || {}) };
    if (state.token) init.headers.Authorization = "Bearer " + state.token;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const detail = (data && (data.detail || data.title)) || response.statusText;
      const error = new Error(detail);
      error.status = response.status;
      throw error;
    }
    return data;
  }

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

  async function login() {
    const initData = webApp ? webApp.initData : "";
    if (!initData) throw new Error("Open this page from the bot in Telegram.");
    const session = await api("POST", "/api/v1/miniapp/auth", { init_data: initData });
    state.token = session.access_token;
    const name = session.user.first_name || session.user.username || "there";
    $("greeting").textContent = "Hi, " + name + "!";
  }

  async function loadSubscription(plansByCode) {
    const sub = await api("GET", "/api/v1/billing/subscription");
    const card = $("current");
    if (!sub.plan) {
      $("plan-name").textContent = "Free";
      $("plan-expiry").textContent = "No active subscription.";
      $("plan-status").hidden = true;
      card.dataset.state = "none";
    } else {
      const plan = plansByCode[sub.plan];
      $("plan-name").textContent = plan ? plan.name : sub.plan;
      const status = $("plan-status");
      status.className = "badge " + sub.status;
      status.textContent = sub.status.replace("_", " ");
      status.hidden = false;
      $("plan-expiry").textContent =
        (sub.status === "active" ? "Renews or ends on " : "Until ") + formatDate(sub.expires_at);
      card.dataset.state = sub.status;
      card.dataset.plan = sub.plan;
    }
    $("manage").hidden = !(sub.provider === "stripe");
  }

  async function checkout(planCode, provider, button) {
    button.disabled = true;
    try {
      const result = await api(
        "POST", "/api/v1/billing/checkout", { plan: planCode, provider },
        { "Idempotency-Key": newIdempotencyKey() });
      if (provider === "telegram_stars" && webApp && webApp.openInvoice) {
        webApp.openInvoice(result.url, (status) => {
          if (status === "paid") refresh();
        });
      } else if (webApp && webApp.openLink) {
        webApp.openLink(result.url);
      } else {
        window.location.href = result.url;
      }
    } catch (error) {
      showError("Could not start checkout: " + error.message);
    } finally {
      button.disabled = false;
    }
  }

  function renderPlans(plans) {
    const list = $("plans");
    list.textContent = "";
    for (const plan of plans) {
      const item = document.createElement("li");
      item.dataset.plan = plan.code;
      const title = document.createElement("div");
      title.className = "value";
      title.textContent = plan.name;
      const period = document.createElement("div");
      period.className = "hint";
      period.textContent = plan.period_days + " days" + (plan.recurring ? ", renews automatically" : "");
      const actions = document.createElement("div");
      actions.className = "actions";
      if (plan.stars_price) {
        const stars = document.createElement("button");
        stars.type = "button";
        stars.className = "buy-stars";
        stars.textContent = "Pay " + plan.stars_price + " Stars";
        stars.addEventListener("click", () => checkout(plan.code, "telegram_stars", stars));
        actions.appendChild(stars);
      }
      if (plan.stripe) {
        const card = document.createElement("button");
        card.type = "button";
        card.className = "buy-stripe";
        card.textContent = "Pay by card";
        card.addEventListener("click", () => checkout(plan.code, "stripe", card));
        actions.appendChild(card);
      }
      item.append(title, period, actions);
      list.appendChild(item);
    }
  }

  async function loadInvoices(append) {
    const query = "?limit=10" + (append && state.invoicesCursor ? "&cursor=" + encodeURIComponent(state.invoicesCursor) : "");
    const page = await api("GET", "/api/v1/billing/invoices" + query);
    const list = $("invoices");
    if (!append) list.textContent = "";
    for (const invoice of page.invoices) {
      const item = document.createElement("li");
      item.dataset.invoice = invoice.id;
      const left = document.createElement("div");
      const amount = document.createElement(invoice.hosted_url ? "a" : "span");
      amount.textContent = formatAmount(invoice.amount, invoice.currency);
      if (invoice.hosted_url) {
        amount.href = invoice.hosted_url;
        amount.addEventListener("click", (event) => {
          if (webApp && webApp.openLink) {
            event.preventDefault();
            webApp.openLink(invoice.hosted_url);
          }
        });
      }
      const date = document.createElement("div");
      date.className = "hint";
      date.textContent = formatDate(invoice.created_at) + " · " + (invoice.provider === "stripe" ? "Card" : "Stars");
      left.append(amount, date);
      item.append(left, badge(invoice.status));
      list.appendChild(item);
    }
    state.invoicesCursor = page.next_cursor;
    $("more-invoices").hidden = !page.next_cursor;
    $("no-invoices").hidden = list.children.length > 0;
  }

  async function refresh() {
    const catalog = await api("GET", "/api/v1/billing/plans");
    const byCode = {};
    for (const plan of catalog.plans) byCode[plan.code] = plan;
    renderPlans(catalog.plans);
    await Promise.all([loadSubscription(byCode), loadInvoices(false)]);
    document.body.dataset.ready = "true";
  }

  $("manage").addEventListener("click", async () => {
    try {
      const portal = await api("POST", "/api/v1/billing/portal");
      if (webApp && webApp.openLink) webApp.openLink(portal.url);
      else window.location.href = portal.url;
    } catch (error) {
      showError("Could not open the billing portal: " + error.message);
    }
  });
  $("more-invoices").addEventListener("click", () => loadInvoices(true).catch((e) => showError(e.message)));

  if (webApp) {
    webApp.ready && webApp.ready();
    webApp.expand && webApp.expand();
  }
  login()
    .then(refresh)
    .catch((error) => {
      showError(error.message);
      document.body.dataset.ready = "error";
    });
})();
