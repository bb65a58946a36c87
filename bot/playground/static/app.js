// The playground page: draws the fake channel the bot writes to and acts for the person picked.
// Plain JS, no build step, nothing fetched but this server's own /play API.
"use strict";

(() => {
  const LONG_POLL_SECONDS = 20;
  const EMOJI = {
    white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌", warning: "⚠️", hourglass: "⌛",
    hourglass_flowing_sand: "⏳", rocket: "🚀", no_entry: "⛔", no_entry_sign: "🚫", lock: "🔒",
    information_source: "ℹ️", mag: "🔍", robot_face: "🤖", fire: "🔥", rotating_light: "🚨",
    arrows_counterclockwise: "🔄", leftwards_arrow_with_hook: "↩️", repeat: "🔁", construction: "🚧",
    large_green_circle: "🟢", large_yellow_circle: "🟡", red_circle: "🔴", large_blue_circle: "🔵",
    white_circle: "⚪", black_circle: "⚫", thumbsup: "👍", "+1": "👍", thumbsdown: "👎", eyes: "👀",
    clipboard: "📋", memo: "📝", bar_chart: "📊", chart_with_upwards_trend: "📈", gear: "⚙️",
    hammer_and_wrench: "🛠️", bulb: "💡", question: "❓", exclamation: "❗", stopwatch: "⏱️",
    clock1: "🕐", zap: "⚡", package: "📦", card_file_box: "🗃️", link: "🔗", arrow_right: "➡️",
    scissors: "✂️", twisted_rightwards_arrows: "🔀", pause_button: "⏸️", arrow_forward: "▶️",
    stop_sign: "🛑", tada: "🎉", sparkles: "✨", shield: "🛡️", busts_in_silhouette: "👥",
    bust_in_silhouette: "👤", crossed_swords: "⚔️", test_tube: "🧪", page_facing_up: "📄",
  };

  const state = {
    data: null,
    version: -1,
    user: localStorage.getItem("playground.user"),
    channel: localStorage.getItem("playground.channel"),
    openThread: null,
    poll: null,
    rendered: { timeline: "", thread: "", modal: "", modalId: null },
    history: [],
    historyAt: -1,
  };

  const $ = (id) => document.getElementById(id);

  // ---- DOM helpers -------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function cmpTs(a, b) {
    const [as, af] = String(a).split(".");
    const [bs, bf] = String(b).split(".");
    return Number(as) - Number(bs) || Number(af || 0) - Number(bf || 0);
  }

  function timeOf(ts) {
    const date = new Date(Number(String(ts).split(".")[0]) * 1000);
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function userById(id) {
    return (state.data?.users || []).find((u) => u.id === id);
  }

  function emojify(text) {
    return text.replace(/:([a-z0-9_+-]+):/g, (match, name) => EMOJI[name] || match);
  }

  function decodeEntities(text) {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  // Text with line breaks kept: one text node per line, <br> between them.
  function textLines(text) {
    const nodes = [];
    text.split("\n").forEach((line, i) => {
      if (i > 0) nodes.push(el("br"));
      if (line) nodes.push(document.createTextNode(line));
    });
    return nodes;
  }

  // ---- mrkdwn ------------------------------------------------------------------------------

  const INLINE = new RegExp(
    [
      "`([^`\\n]+)`", // 1 code
      "<([^<>\\n]+)>", // 2 link, mention, special
      "(?<![\\w*])\\*(?=\\S)([^*\\n]*?\\S)\\*(?![\\w*])", // 3 bold
      "(?<![\\w_])_(?=\\S)([^_\\n]*?\\S)_(?![\\w_])", // 4 italic
      "(?<![\\w~])~(?=\\S)([^~\\n]*?\\S)~(?![\\w~])", // 5 strike
    ].join("|"),
    "g",
  );

  function safeUrl(url) {
    return /^(https?:|mailto:)/i.test(url) ? url : null;
  }

  const DATE_TOKENS = {
    date_num: { year: "numeric", month: "2-digit", day: "2-digit" },
    date: { year: "numeric", month: "long", day: "numeric" },
    date_short: { year: "numeric", month: "short", day: "numeric" },
    date_long: { weekday: "long", year: "numeric", month: "long", day: "numeric" },
    date_pretty: { year: "numeric", month: "long", day: "numeric" },
    date_short_pretty: { year: "numeric", month: "short", day: "numeric" },
    date_long_pretty: { weekday: "long", year: "numeric", month: "long", day: "numeric" },
    time: { hour: "2-digit", minute: "2-digit" },
    time_secs: { hour: "2-digit", minute: "2-digit", second: "2-digit" },
  };

  function formatDate(seconds, format) {
    const date = new Date(Number(seconds) * 1000);
    return format.replace(/\{([a-z_]+)\}/g, (match, token) => {
      if (token === "ago") {
        const minutes = Math.round((Date.now() - date.getTime()) / 60000);
        return minutes < 1 ? "just now" : minutes < 60 ? `${minutes} minutes ago` : `${Math.round(minutes / 60)} hours ago`;
      }
      const options = DATE_TOKENS[token];
      if (!options) return match;
      return token.startsWith("time") ? date.toLocaleTimeString([], options) : date.toLocaleDateString([], options);
    });
  }

  function renderControl(inner) {
    const [target, ...rest] = inner.split("|");
    const label = rest.join("|");
    if (target.startsWith("@")) {
      const user = userById(target.slice(1));
      return el("span", { class: "mention", "data-testid": "mention", "data-user-id": target.slice(1) },
        `@${label || user?.name || target.slice(1)}`);
    }
    if (target.startsWith("#")) {
      const channel = (state.data?.channels || []).find((c) => c.id === target.slice(1));
      return el("span", { class: "mention channel-mention" }, `#${label || channel?.name || target.slice(1)}`);
    }
    if (target.startsWith("!")) {
      const [kind, ...parts] = target.slice(1).split("^");
      if (kind === "here" || kind === "channel" || kind === "everyone") {
        return el("span", { class: "mention" }, `@${kind}`);
      }
      if (kind === "subteam") {
        const group = (state.data?.usergroups || []).find((g) => g.id === parts[0]);
        return el("span", { class: "mention" }, label || `@${group?.handle || parts[0]}`);
      }
      if (kind === "date" && parts.length >= 2) {
        return el("span", { class: "date" }, formatDate(parts[0], parts[1]) || decodeEntities(label));
      }
      return document.createTextNode(decodeEntities(label || target));
    }
    const href = safeUrl(decodeEntities(target));
    if (!href) return document.createTextNode(decodeEntities(label || target));
    const link = el("a", { href, target: "_blank", rel: "noopener noreferrer" });
    if (label) renderInline(label, link);
    else link.textContent = href;
    return link;
  }

  function renderInline(text, parent) {
    let last = 0;
    INLINE.lastIndex = 0;
    const matches = [...text.matchAll(INLINE)];
    for (const match of matches) {
      if (match.index > last) parent.append(...textLines(emojify(decodeEntities(text.slice(last, match.index)))));
      const [, code, control, bold, italic, strike] = match;
      if (code !== undefined) parent.append(el("code", { class: "inline-code" }, decodeEntities(code)));
      else if (control !== undefined) parent.append(renderControl(control));
      else {
        const tag = bold !== undefined ? "b" : italic !== undefined ? "i" : "s";
        const node = el(tag);
        renderInline(bold ?? italic ?? strike, node);
        parent.append(node);
      }
      last = match.index + match[0].length;
    }
    if (last < text.length) parent.append(...textLines(emojify(decodeEntities(text.slice(last)))));
  }

  function renderMrkdwn(text) {
    const root = el("span", { class: "mrkdwn" });
    const parts = String(text).split(/```/);
    parts.forEach((part, i) => {
      if (i % 2 === 1 && i < parts.length - 1) {
        root.append(el("pre", { class: "pre", "data-testid": "pre" }, decodeEntities(part.replace(/^\n/, ""))));
        return;
      }
      let chunk = i % 2 === 1 ? "```" + part : part;
      // A <pre> is a block of its own: the line breaks next to it would add empty lines.
      if (i > 0 && i % 2 === 0) chunk = chunk.replace(/^\n/, "");
      if (i % 2 === 0 && i < parts.length - 2) chunk = chunk.replace(/\n$/, "");
      // Quote lines ("> …", which Slack escapes to "&gt; …") become one blockquote per run.
      const runs = [];
      for (const line of chunk.split("\n")) {
        const quoted = line.match(/^(?:&gt;|>) ?(.*)$/);
        const kind = quoted ? "quote" : "text";
        const last = runs[runs.length - 1];
        if (last && last.kind === kind) last.lines.push(quoted ? quoted[1] : line);
        else runs.push({ kind, lines: [quoted ? quoted[1] : line] });
      }
      for (const run of runs) {
        const node = el(run.kind === "quote" ? "blockquote" : "span");
        renderInline(run.lines.join("\n"), node);
        root.append(node);
      }
    });
    return root;
  }

  function renderText(obj) {
    if (!obj) return document.createTextNode("");
    if (obj.type === "mrkdwn") return renderMrkdwn(obj.text || "");
    return el("span", { class: "plain-text" }, obj.emoji === false ? obj.text : emojify(obj.text || ""));
  }

  function plain(obj) {
    return obj ? (obj.emoji === false ? obj.text : emojify(obj.text || "")) : "";
  }

  // ---- Block Kit -----------------------------------------------------------------------------

  function renderButton(element, blockId, ctx) {
    const classes = ["sk-button", element.style || ""].join(" ").trim();
    const button = el("button", {
      type: "button",
      class: classes,
      "data-testid": "button",
      "data-action-id": element.action_id,
      "data-block-id": blockId,
      "data-value": element.value,
      "data-style": element.style || "default",
      "data-confirm": element.confirm ? "true" : null,
    }, plain(element.text));
    button.addEventListener("click", async () => {
      if (element.confirm && !(await confirmDialog(element.confirm))) return;
      if (element.url && safeUrl(element.url)) window.open(element.url, "_blank", "noopener");
      // Every button of the block goes grey as the click leaves: a second click cannot race the first.
      const siblings = [...(button.parentElement?.querySelectorAll("button") || [button])];
      for (const b of siblings) b.disabled = true;
      try {
        await act(ctx, element, blockId, element.value);
      } finally {
        // The bot usually rewrites the message (new buttons, or none); until then they stay disabled.
        setTimeout(() => { for (const b of siblings) b.disabled = false; }, 5000);
      }
    });
    return button;
  }

  function optionsOf(element) {
    const options = [...(element.options || [])];
    for (const group of element.option_groups || []) options.push(...(group.options || []));
    return options;
  }

  function renderSelect(element, blockId, ctx, { inModalInput = false } = {}) {
    const select = el("select", {
      class: "sk-select",
      "data-testid": inModalInput ? "modal-select" : "select",
      "data-action-id": element.action_id,
      "data-block-id": blockId,
      "data-input": inModalInput ? "select" : null,
    });
    const placeholder = element.placeholder ? plain(element.placeholder) : "Select an item";
    select.append(el("option", { value: "" }, placeholder));
    for (const option of optionsOf(element)) {
      const selected = element.initial_option && element.initial_option.value === option.value;
      select.append(el("option", { value: option.value, selected }, plain(option.text)));
    }
    if (!inModalInput) {
      select.addEventListener("change", async () => {
        if (!select.value) return;
        if (element.confirm && !(await confirmDialog(element.confirm))) return;
        await act(ctx, element, blockId, select.value);
      });
    }
    return select;
  }

  function renderElement(element, blockId, ctx) {
    if (!element) return null;
    switch (element.type) {
      case "button":
        return renderButton(element, blockId, ctx);
      case "static_select":
      case "overflow":
        return renderSelect(element.type === "overflow" ? { ...element, placeholder: { type: "plain_text", text: "⋯" } } : element, blockId, ctx);
      case "image":
        return el("span", { class: "image-alt", title: element.image_url || "" }, `🖼 ${element.alt_text || "image"}`);
      default:
        return el("span", { class: "unsupported" }, `[${element.type}]`);
    }
  }

  function renderInputElement(block) {
    const element = block.element || {};
    const blockId = block.block_id;
    const common = {
      "data-testid": "modal-input",
      "data-block-id": blockId,
      "data-action-id": element.action_id,
      "data-input": "text",
      id: `input-${blockId}`,
      placeholder: element.placeholder ? plain(element.placeholder) : null,
      maxlength: element.max_length || null,
    };
    switch (element.type) {
      case "plain_text_input":
        if (element.multiline) return el("textarea", { ...common, rows: 4 }, element.initial_value || "");
        return el("input", { ...common, type: "text", value: element.initial_value || "" });
      case "number_input":
        return el("input", { ...common, type: "number", value: element.initial_value || "" });
      case "email_text_input":
        return el("input", { ...common, type: "email", value: element.initial_value || "" });
      case "url_text_input":
        return el("input", { ...common, type: "url", value: element.initial_value || "" });
      case "static_select":
        return renderSelect(element, blockId, null, { inModalInput: true });
      default:
        return el("span", { class: "unsupported" }, `[${element.type} is not drawn by the playground]`);
    }
  }

  function renderInputBlock(block, errors) {
    const error = errors?.[block.block_id];
    const wrapper = el("div", {
      class: `block block-input${error ? " has-error" : ""}`,
      "data-testid": "input-block",
      "data-block-id": block.block_id,
    });
    wrapper.append(el("label", { class: "input-label", for: `input-${block.block_id}` },
      plain(block.label), block.optional ? el("span", { class: "optional" }, " (optional)") : null));
    wrapper.append(renderInputElement(block));
    if (error) wrapper.append(el("div", { class: "input-error", "data-testid": "modal-error", "data-block-id": block.block_id }, error));
    if (block.hint) wrapper.append(el("div", { class: "input-hint" }, plain(block.hint)));
    return wrapper;
  }

  function renderRichText(block) {
    const root = el("div", { class: "block block-rich-text", "data-testid": "block-rich-text" });
    const inline = (elements, parent) => {
      for (const item of elements || []) {
        let node;
        if (item.type === "text") node = document.createTextNode(item.text || "");
        else if (item.type === "link") node = safeUrl(item.url) ? el("a", { href: item.url, target: "_blank", rel: "noopener noreferrer" }, item.text || item.url) : document.createTextNode(item.text || "");
        else if (item.type === "user") node = el("span", { class: "mention" }, `@${userById(item.user_id)?.name || item.user_id}`);
        else if (item.type === "emoji") node = document.createTextNode(EMOJI[item.name] || `:${item.name}:`);
        else node = document.createTextNode(item.text || "");
        const style = item.style || {};
        if (style.code) node = el("code", { class: "inline-code" }, node);
        if (style.bold) node = el("b", {}, node);
        if (style.italic) node = el("i", {}, node);
        if (style.strike) node = el("s", {}, node);
        parent.append(node);
      }
    };
    for (const section of block.elements || []) {
      if (section.type === "rich_text_preformatted") {
        const pre = el("pre", { class: "pre" });
        inline(section.elements, pre);
        root.append(pre);
      } else if (section.type === "rich_text_quote") {
        const quote = el("blockquote");
        inline(section.elements, quote);
        root.append(quote);
      } else if (section.type === "rich_text_list") {
        const list = el(section.style === "ordered" ? "ol" : "ul");
        for (const item of section.elements || []) {
          const li = el("li");
          inline(item.elements, li);
          list.append(li);
        }
        root.append(list);
      } else {
        const div = el("div");
        inline(section.elements, div);
        root.append(div);
      }
    }
    return root;
  }

  function renderBlock(block, ctx, errors) {
    const id = block.block_id;
    switch (block.type) {
      case "header":
        return el("div", { class: "block block-header", "data-testid": "block-header", "data-block-id": id },
          el("h3", {}, plain(block.text)));
      case "section": {
        const body = el("div", { class: "section-body" });
        if (block.text) body.append(el("div", { class: "section-text", "data-testid": "section-text" }, renderText(block.text)));
        if (block.fields) {
          body.append(el("div", { class: "section-fields", "data-testid": "section-fields" },
            block.fields.map((field) => el("div", { class: "section-field", "data-testid": "section-field" }, renderText(field)))));
        }
        const accessory = block.accessory ? el("div", { class: "accessory" }, renderElement(block.accessory, id, ctx)) : null;
        return el("div", { class: "block block-section", "data-testid": "block-section", "data-block-id": id }, body, accessory);
      }
      case "context":
        return el("div", { class: "block block-context", "data-testid": "block-context", "data-block-id": id },
          (block.elements || []).map((item) => (item.type === "image"
            ? el("span", { class: "image-alt" }, `🖼 ${item.alt_text || ""}`)
            : el("span", { class: "context-item" }, renderText(item)))));
      case "divider":
        return el("hr", { class: "block block-divider", "data-testid": "block-divider" });
      case "actions":
        return el("div", { class: "block block-actions", "data-testid": "block-actions", "data-block-id": id },
          (block.elements || []).map((element) => renderElement(element, id, ctx)));
      case "input":
        return renderInputBlock(block, errors);
      case "image":
        return el("figure", { class: "block block-image", "data-testid": "block-image" },
          el("span", { class: "image-alt" }, `🖼 ${block.alt_text || ""}`),
          block.title ? el("figcaption", {}, plain(block.title)) : null);
      case "rich_text":
        return renderRichText(block);
      case "markdown":
        return el("div", { class: "block block-markdown", "data-testid": "block-markdown" }, renderMrkdwn(block.text || ""));
      default:
        return el("div", { class: "block block-unsupported" }, `[${block.type} block]`);
    }
  }

  function renderBlocks(blocks, ctx, errors) {
    return el("div", { class: "blocks", "data-testid": "blocks" }, (blocks || []).map((block) => renderBlock(block, ctx, errors)));
  }

  // ---- messages ----------------------------------------------------------------------------

  function authorOf(msg) {
    if (msg.kind === "echo") return userById(state.user)?.name || state.user;
    if (msg.user === "USLACKBOT") return "Slackbot";
    if (msg.bot_id || msg.user === state.data.bot.user_id) return state.data.bot.name;
    return userById(msg.user)?.name || msg.user;
  }

  function renderMessage(msg, { inThread = false } = {}) {
    const ephemeral = Boolean(msg.is_ephemeral);
    const echo = msg.kind === "echo";
    const testid = echo ? "command-echo" : ephemeral ? "ephemeral" : inThread ? "thread-message" : "message";
    const ctx = { kind: ephemeral ? "ephemeral" : "message", ts: msg.ts, channel: state.data.channel.id };
    const isApp = !echo && (msg.bot_id || msg.user === state.data.bot.user_id || msg.source);
    const author = authorOf(msg);
    const meta = el("div", { class: "message-meta" },
      el("span", { class: "author", "data-testid": "message-author" }, author),
      isApp && msg.user !== "USLACKBOT" ? el("span", { class: "app-badge" }, "APP") : null,
      el("time", { title: msg.ts, "data-testid": "message-time" }, timeOf(msg.posted_at ?? msg.ts)),
      msg.edited ? el("span", { class: "edited", "data-testid": "edited" }, "(edited)") : null,
      msg.subtype === "thread_broadcast" && !inThread ? el("span", { class: "broadcast" }, "replied to a thread") : null);
    let body;
    if (echo) body = el("div", { class: "message-body echo-text" }, el("code", {}, msg.text));
    else if (msg.blocks && msg.blocks.length) body = renderBlocks(msg.blocks, ctx);
    else body = el("div", { class: "message-text" }, renderMrkdwn(msg.text || ""));
    const files = (msg.files || []).map((file) => el("div", { class: "file", "data-testid": "file" },
      `📄 ${file.title || file.name}`, el("span", { class: "file-name" }, ` ${file.name}`)));
    const footer = [];
    if (ephemeral || echo) {
      footer.push(el("div", { class: "ephemeral-note", "data-testid": "ephemeral-note" },
        echo ? "Only you see the command you typed" : "Only visible to you"));
    }
    if (!inThread && msg.reply_count) {
      footer.push(el("button", {
        type: "button",
        class: "thread-link",
        "data-testid": "thread-link",
        "data-ts": msg.ts,
        onclick: () => openThread(msg.ts),
      }, `${msg.reply_count} ${msg.reply_count === 1 ? "reply" : "replies"}`));
    }
    const initial = (author || "?").slice(0, 1).toUpperCase();
    return el("div", {
      class: `message${ephemeral ? " ephemeral" : ""}${echo ? " echo" : ""}`,
      "data-testid": testid,
      "data-ts": msg.ts,
      "data-source": msg.source || null,
    },
    el("div", { class: `avatar${isApp ? " app" : ""}` }, initial),
    el("div", { class: "message-main" }, meta, el("div", { class: "message-content", "data-testid": "message-body" }, body), files, footer));
  }

  function timelineEntries() {
    const data = state.data;
    const entries = [
      ...data.messages,
      ...data.ephemerals.filter((e) => !e.thread_ts),
      ...data.echoes.map((e) => ({ ...e, kind: "echo" })),
    ];
    return entries.sort((a, b) => cmpTs(a.ts, b.ts));
  }

  function renderHome() {
    // The app's Home tab, in place of the channel: the bot publishes it when the tab is opened.
    const home = state.data.home;
    const key = JSON.stringify(["home", home, state.user]);
    if (key === state.rendered.timeline) return;
    state.rendered.timeline = key;
    const ctx = { kind: "view", viewId: home?.id };
    const body = home
      ? el("div", { class: "home", "data-testid": "home-tab" }, renderBlocks(home.blocks || [], ctx))
      : el("div", { class: "empty", "data-testid": "home-tab" }, "Opening the Home tab…");
    $("timeline").replaceChildren(body);
  }

  function renderTimeline() {
    $("home-button").classList.toggle("active", Boolean(state.showHome));
    $("channel-name").textContent = state.showHome ? "Home" : $("channel-name").textContent;
    if (state.showHome) { renderHome(); return; }
    const entries = timelineEntries();
    const key = JSON.stringify([entries, state.user]);
    if (key === state.rendered.timeline) return;
    state.rendered.timeline = key;
    const timeline = $("timeline");
    const atBottom = timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 40;
    if (entries.length) timeline.replaceChildren(...entries.map((entry) => renderMessage(entry)));
    else timeline.replaceChildren(el("div", { class: "empty", "data-testid": "empty-channel" }, "Nothing here yet. Try /tikv help."));
    if (atBottom || !state.rendered.scrolled) {
      timeline.scrollTop = timeline.scrollHeight;
      state.rendered.scrolled = true;
    }
  }

  function openThread(ts) {
    state.openThread = ts;
    state.rendered.thread = "";
    renderThread();
  }

  function renderThread() {
    const panel = $("thread-panel");
    const parent = state.openThread && state.data.messages.find((m) => m.ts === state.openThread);
    if (!parent) {
      panel.hidden = true;
      state.openThread = null;
      return;
    }
    const ephemerals = state.data.ephemerals.filter((e) => e.thread_ts === parent.ts);
    const replies = [...(parent.replies || []), ...ephemerals].sort((a, b) => cmpTs(a.ts, b.ts));
    const key = JSON.stringify([parent, replies]);
    panel.hidden = false;
    panel.dataset.threadTs = parent.ts;
    if (key === state.rendered.thread) return;
    state.rendered.thread = key;
    $("thread-messages").replaceChildren(
      renderMessage(parent, { inThread: true }),
      el("div", { class: "reply-count" }, `${parent.reply_count || 0} ${parent.reply_count === 1 ? "reply" : "replies"}`),
      ...replies.map((reply) => renderMessage(reply, { inThread: true })),
    );
  }

  // ---- the modal ---------------------------------------------------------------------------

  function modalValues() {
    const values = {};
    for (const input of $("modal").querySelectorAll("[data-input]")) {
      const blockId = input.dataset.blockId;
      const actionId = input.dataset.actionId;
      values[blockId] = values[blockId] || {};
      values[blockId][actionId] = input.value === "" ? null : input.value;
    }
    return values;
  }

  function renderModal() {
    const modal = state.data.modal;
    const overlay = $("modal-overlay");
    if (!modal) {
      overlay.hidden = true;
      state.rendered.modal = "";
      state.rendered.modalId = null;
      return;
    }
    const key = JSON.stringify(modal);
    overlay.hidden = false;
    if (key === state.rendered.modal) return;
    // What the person typed survives a redraw of the same view, as in Slack (same block and action ids).
    const typed = state.rendered.modalId === modal.id ? modalValues() : {};
    state.rendered.modal = key;
    state.rendered.modalId = modal.id;
    const form = $("modal");
    form.dataset.viewId = modal.id;
    form.dataset.callbackId = modal.callback_id || "";
    const ctx = { kind: "view", viewId: modal.id };
    const close = el("button", { type: "button", class: "sk-button", "data-testid": "modal-close", onclick: closeModal },
      plain(modal.close) || "Cancel");
    const submit = modal.submit
      ? el("button", { type: "submit", class: "sk-button primary", "data-testid": "modal-submit" }, plain(modal.submit))
      : null;
    form.replaceChildren(...[
      el("header", { class: "modal-header" },
        el("h2", { "data-testid": "modal-title" }, plain(modal.title)),
        el("button", { type: "button", class: "icon-button", "aria-label": "Close", onclick: closeModal }, "×")),
      modal.notice ? el("div", { class: "modal-notice", "data-testid": "modal-notice" }, modal.notice) : null,
      el("div", { class: "modal-body" }, renderBlocks(modal.blocks, ctx, modal.errors)),
      el("footer", { class: "modal-footer" }, close, submit),
    ].filter(Boolean));
    for (const input of form.querySelectorAll("[data-input]")) {
      const previous = typed[input.dataset.blockId]?.[input.dataset.actionId];
      if (previous !== undefined) input.value = previous ?? "";
    }
    const firstError = form.querySelector(".has-error [data-input]");
    (firstError || form.querySelector("[data-input]"))?.focus();
  }

  async function submitModal(event) {
    event.preventDefault();
    const modal = state.data?.modal;
    if (!modal) return;
    const submit = $("modal").querySelector("[data-testid=modal-submit]");
    if (submit) submit.disabled = true;
    try {
      const result = await post("/play/submit", { user: state.user, view_id: modal.id, values: modalValues() });
      if (result && !result.ok) toast(`The app did not answer the submission (${result.error})`, "warning");
    } finally {
      if (submit) submit.disabled = false;
    }
  }

  async function closeModal() {
    const modal = state.data?.modal;
    if (!modal) return;
    await post("/play/close", { user: state.user, view_id: modal.id });
  }

  // ---- confirm dialogs ---------------------------------------------------------------------

  function confirmDialog(confirm) {
    return new Promise((resolve) => {
      const overlay = $("confirm-overlay");
      $("confirm-title").textContent = plain(confirm.title);
      $("confirm-text").replaceChildren(renderText(confirm.text));
      const ok = $("confirm-ok");
      const cancel = $("confirm-cancel");
      ok.textContent = plain(confirm.confirm) || "Yes";
      cancel.textContent = plain(confirm.deny) || "Cancel";
      ok.className = `sk-button ${confirm.style === "danger" ? "danger" : "primary"}`;
      const done = (answer) => {
        overlay.hidden = true;
        ok.onclick = cancel.onclick = null;
        document.removeEventListener("keydown", onKey, true);
        resolve(answer);
      };
      const onKey = (event) => {
        if (event.key === "Escape") { event.stopPropagation(); done(false); }
      };
      ok.onclick = () => done(true);
      cancel.onclick = () => done(false);
      document.addEventListener("keydown", onKey, true);
      overlay.hidden = false;
      ok.focus();
    });
  }

  // ---- talking to the server -----------------------------------------------------------------

  async function post(path, body) {
    try {
      const response = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const result = await response.json();
      if (!response.ok) toast(result.error || `${path} failed (${response.status})`, "error");
      return result;
    } catch (error) {
      toast(`The playground server did not answer: ${error.message}`, "error");
      return null;
    }
  }

  async function act(ctx, element, blockId, value) {
    const body = { user: state.user, action_id: element.action_id, block_id: blockId, value };
    if (ctx.kind === "view") body.view_id = ctx.viewId;
    else Object.assign(body, { channel: ctx.channel, message_ts: ctx.ts });
    const result = await post("/play/click", body);
    if (result && result.ok === false && result.kind) {
      toast(`⚠️ The app did not respond to "${plain(element.text) || element.action_id}" (${result.error})`, "warning");
    }
  }

  async function sendCommand(text) {
    const result = await post("/play/command", { user: state.user, channel: state.channel, text });
    return result !== null;
  }

  function toast(text, kind = "info") {
    const node = el("div", { class: `toast ${kind}`, "data-testid": "toast", role: "status" }, text);
    $("toasts").append(node);
    setTimeout(() => node.remove(), 6000);
  }

  function setConnected(connected) {
    const status = $("connection-status");
    status.textContent = connected ? "connected" : "reconnecting…";
    status.dataset.state = connected ? "connected" : "disconnected";
  }

  // ---- state and the long-poll ---------------------------------------------------------------

  function applyState(data) {
    state.data = data;
    state.version = data.version;
    state.user = data.me;
    state.channel = data.channel.id;
    document.body.dataset.version = String(data.version);
    renderChrome();
    renderTimeline();
    renderThread();
    renderModal();
  }

  function renderChrome() {
    const data = state.data;
    const channelLabel = (c) => `${c.is_im ? "@" : "#"}${c.name}`;
    $("channel-name").textContent = channelLabel(data.channel);
    document.querySelector("[data-testid=workspace-name]").textContent = data.team.name;
    const picker = $("user-picker");
    const people = data.users.filter((u) => !u.is_bot);
    const key = JSON.stringify(people.map((u) => [u.id, u.label]));
    if (picker.dataset.key !== key) {
      picker.dataset.key = key;
      picker.replaceChildren(...people.map((u) => el("option", { value: u.id }, u.label)));
    }
    picker.value = data.me;
    const me = userById(data.me);
    const notes = [];
    if (me?.groups?.length) notes.push(`member of ${me.groups.map((g) => `@${g}`).join(", ")}`);
    if (me?.is_restricted) notes.push("a guest: the bot should refuse their approvals");
    if (me?.deleted) notes.push("deactivated: the bot should refuse them");
    $("user-note").textContent = notes.join("; ");
    const list = $("channel-list");
    list.replaceChildren(...data.channels.map((c) => el("li", {},
      el("button", {
        type: "button",
        class: `channel-button${c.id === data.channel.id ? " active" : ""}`,
        "data-testid": "channel-button",
        "data-channel-id": c.id,
        onclick: () => { state.showHome = false; switchTo({ channel: c.id }); },
      }, channelLabel(c)))));
  }

  async function openHome() {
    state.showHome = true;
    state.rendered.timeline = "";
    renderTimeline();
    await post("/play/home", { user: state.user });
  }

  function switchTo({ user, channel }) {
    if (user) { state.user = user; localStorage.setItem("playground.user", user); }
    if (channel) { state.channel = channel; localStorage.setItem("playground.channel", channel); state.openThread = null; }
    state.version = -1;
    state.rendered.timeline = "";
    state.rendered.scrolled = false;
    state.poll?.abort();
  }

  async function fetchState(since, wait, signal) {
    const params = new URLSearchParams({ since: String(since), wait: String(wait) });
    if (state.user) params.set("user", state.user);
    if (state.channel) params.set("channel", state.channel);
    const response = await fetch(`/play/state?${params}`, { signal, cache: "no-store" });
    if (response.status === 404) {
      // The remembered user or channel is gone (another workspace setup): fall back to defaults.
      state.user = null;
      state.channel = null;
      localStorage.removeItem("playground.user");
      localStorage.removeItem("playground.channel");
      throw new Error("unknown user or channel");
    }
    if (!response.ok) throw new Error(`state: ${response.status}`);
    return response.json();
  }

  async function pollForever() {
    for (;;) {
      const controller = new AbortController();
      state.poll = controller;
      try {
        const wait = state.version < 0 ? 0 : LONG_POLL_SECONDS;
        applyState(await fetchState(state.version, wait, controller.signal));
        setConnected(true);
      } catch (error) {
        if (error.name === "AbortError") continue;
        setConnected(false);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  // ---- wiring --------------------------------------------------------------------------------

  function init() {
    $("composer-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = $("composer");
      const text = input.value.trim();
      if (!text) return;
      if (!text.startsWith("/")) {
        toast("Only slash commands reach the bot here: try /tikv help", "info");
        return;
      }
      input.disabled = true;
      try {
        if (await sendCommand(text)) {
          state.history.push(text);
          state.historyAt = state.history.length;
          input.value = "";
        }
      } finally {
        input.disabled = false;
        input.focus();
      }
    });
    $("composer").addEventListener("keydown", (event) => {
      if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return;
      if (!state.history.length) return;
      event.preventDefault();
      const step = event.key === "ArrowUp" ? -1 : 1;
      state.historyAt = Math.max(0, Math.min(state.history.length, state.historyAt + step));
      event.target.value = state.history[state.historyAt] || "";
    });
    $("user-picker").addEventListener("change", (event) => {
      switchTo({ user: event.target.value });
      if (state.showHome) post("/play/home", { user: event.target.value });
    });
    $("home-button").addEventListener("click", openHome);
    $("thread-close").addEventListener("click", () => { state.openThread = null; renderThread(); });
    $("modal").addEventListener("submit", submitModal);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !$("modal-overlay").hidden && $("confirm-overlay").hidden) closeModal();
    });
    window.playground = { state, renderMrkdwn };
    pollForever();
  }

  init();
})();
