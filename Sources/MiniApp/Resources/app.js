// telebot Mini App billing page: no framework, no build step.
(function () {
  "use strict";

  const webApp = (window.Telegram && window.Telegram.WebApp) || null;
  // Inside Telegram the WebApp object carries initData and opens invoices and links itself. In a plain browser
  // (the sandbox demo, or telegram-web-app.js loaded outside Telegram, which reports the platform "unknown")
  // invoice links and Stripe pages open in this window and come back to this page.
  const inTelegram = !!(webApp && webApp.initData && webApp.platform !== "unknown");
  const INIT_DATA_KEY = "telebot.miniapp.initData";
  const PENDING_KEY = "telebot.miniapp.beforePayment";
  const state = { token: null, invoicesCursor: null };
  const $ = (id) => document.getElementById(id);

  // What the plan card and the newest invoice say, to tell whether a payment has shown up yet.
  function pageSignature() {
    const card = $("current");
    const newest = $("invoices").firstElementChild;
    return [card.dataset.state, card.dataset.plan || "", $("plan-expiry").textContent, newest ? newest.dataset.invoice : ""]
      .join("|");
  }

  function showError(message) {
    const el = $("error");
    el.textContent = message;
    el.hidden = false;
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

  const { formatDate, formatAmount, badge, storage, newIdempotencyKey } = window.MiniAppFormat;

  // initData: from Telegram's WebApp object; else from the URL fragment `#tgWebAppData=<urlencoded initData>`, the
  // way Telegram hands it to web apps (the demo URL of scripts/run --demo). It is kept in sessionStorage for this tab,
  // so a reload, or the return from Stripe Checkout or a Stars invoice page (whose URLs carry no fragment), still
  // signs in; the fragment itself is removed from the address bar.
  function findInitData() {
    if (inTelegram) return webApp.initData;
    const store = storage();
    const fragment = new URLSearchParams(window.location.hash.replace(/^#/, "")).get("tgWebAppData");
    if (fragment && window.history && window.history.replaceState) {
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    // telegram-web-app.js, when it loads outside Telegram, has parsed the same fragment into webApp.initData.
    const found = fragment || (webApp && webApp.initData) || "";
    if (found) {
      if (store) store.setItem(INIT_DATA_KEY, found);
      return found;
    }
    return (store && store.getItem(INIT_DATA_KEY)) || "";
  }

  async function login() {
    const initData = findInitData();
    if (!initData) throw new Error("Open this page from the bot in Telegram.");
    let session;
    try {
      session = await api("POST", "/api/v1/miniapp/auth", { init_data: initData });
    } catch (error) {
      const store = storage();
      if (error.status === 401 && store && !inTelegram) {
        store.removeItem(INIT_DATA_KEY); // expired or foreign: do not retry it on the next load
        throw new Error("This sign-in link has expired. Open the page from the bot again.");
      }
      throw error;
    }
    state.token = session.access_token;
    const name = session.user.first_name || session.user.username || "there";
    $("greeting").textContent = "Hi, " + name + "!";
  }

  async function loadSubscription(plansByCode) {
    const [sub, me] = await Promise.all([api("GET", "/api/v1/billing/subscription"), api("GET", "/api/v1/me")]);
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
        (sub.status !== "active" ? "Until " : sub.renews ? "Renews on " : "Ends on ") + formatDate(sub.expires_at);
      card.dataset.state = sub.status;
      card.dataset.plan = sub.plan;
    }
    // A recurring subscription of the user's own (not an operator's grant) can stop or resume renewing.
    const renewal = $("renewal");
    const subscribed = !!sub.plan && !!plansByCode[sub.plan] && plansByCode[sub.plan].recurring &&
      (sub.provider === "stripe" || sub.provider === "telegram_stars") && sub.status === "active";
    renewal.hidden = !subscribed;
    renewal.textContent = sub.renews ? "Cancel renewal" : "Resume renewal";
    renewal.dataset.action = sub.renews ? "cancel" : "resume";
    renewal.dataset.plan = sub.plan || "";
    renewal.disabled = false;
    $("manage").hidden = !(sub.provider === "stripe");
    // Other active plans (a Stars boost next to a card subscription, say).
    const others = ((me && me.entitlements) || [])
      .filter((e) => e.plan !== sub.plan && (e.status === "active" || e.status === "past_due"))
      .map((e) => ((plansByCode[e.plan] && plansByCode[e.plan].name) || e.plan) + " until " + formatDate(e.expires_at));
    $("plan-others").textContent = others.length ? "Also active: " + others.join(", ") + "." : "";
    $("plan-others").hidden = others.length === 0;
  }

  async function checkout(planCode, provider, button) {
    button.disabled = true;
    try {
      const result = await api(
        "POST", "/api/v1/billing/checkout", { plan: planCode, provider },
        { "Idempotency-Key": newIdempotencyKey() });
      if (provider === "telegram_stars" && inTelegram && webApp.openInvoice) {
        webApp.openInvoice(result.url, (status) => {
          if (status === "paid") refresh();
        });
      } else if (inTelegram && webApp.openLink) {
        webApp.openLink(result.url);
      } else {
        // A plain browser: the invoice page or Stripe Checkout comes back to this page when done.
        const store = storage();
        if (store) store.setItem(PENDING_KEY, pageSignature());
        window.location.assign(result.url);
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
          if (inTelegram && webApp.openLink) {
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
      if (inTelegram && webApp.openLink) webApp.openLink(portal.url);
      else window.location.assign(portal.url);
    } catch (error) {
      showError("Could not open the billing portal: " + error.message);
    }
  });
  $("renewal").addEventListener("click", async () => {
    const button = $("renewal");
    const action = button.dataset.action;
    button.disabled = true;
    try {
      await api("POST", "/api/v1/billing/subscription/" + action, { plan: button.dataset.plan });
      await refresh();
    } catch (error) {
      button.disabled = false;
      showError((action === "cancel" ? "Could not cancel: " : "Could not resume: ") + error.message);
    }
  });
  $("more-invoices").addEventListener("click", () => loadInvoices(true).catch((e) => showError(e.message)));

  // Back from Stripe Checkout (`?checkout=success|cancel`, the success and cancel URLs telebot gives Stripe) or from
  // a Stars invoice page in a browser (`?invoice=paid`). The payment is applied by a webhook, which may land a moment
  // after the redirect: refresh a few more times while the plan has not changed yet.
  function returnNotice() {
    const params = new URLSearchParams(window.location.search);
    const checkout = params.get("checkout");
    const paid = checkout === "success" || params.get("invoice") === "paid";
    if (!paid && checkout !== "cancel") return false;
    const notice = $("notice");
    notice.textContent = paid ? "Thank you! Your payment went through." : "Checkout was cancelled; nothing was charged.";
    notice.dataset.kind = paid ? "paid" : "cancelled";
    notice.hidden = false;
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", window.location.pathname); // a reload must not repeat the notice
    }
    return paid;
  }

  function refreshUntilChanged(before, delays) {
    if (!delays.length) return;
    setTimeout(() => {
      refresh()
        .then(() => {
          if (pageSignature() === before) refreshUntilChanged(before, delays.slice(1));
        })
        .catch(() => {});
    }, delays[0]);
  }

  if (webApp) {
    webApp.ready && webApp.ready();
    webApp.expand && webApp.expand();
  }
  const returnedFromPayment = returnNotice();
  login()
    .then(refresh)
    .then(() => {
      const store = storage();
      const before = store && store.getItem(PENDING_KEY);
      if (store) store.removeItem(PENDING_KEY);
      // What the page showed before leaving for the payment: unchanged means the webhook has not landed yet.
      if (returnedFromPayment && before !== null && before === pageSignature()) {
        refreshUntilChanged(before, [1500, 3000, 6000]);
      }
    })
    .catch((error) => {
      showError(error.message);
      document.body.dataset.ready = "error";
    });
})();
