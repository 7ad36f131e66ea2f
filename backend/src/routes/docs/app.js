// hfb API reference: renders /api/openapi.json and lets you try each operation.
"use strict";
(function () {
  const $ = (sel, el = document) => el.querySelector(sel);
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  };
  const tokenInput = $("#token");
  tokenInput.value = sessionStorage.getItem("hfb-docs-token") || "";
  tokenInput.addEventListener("change", () => sessionStorage.setItem("hfb-docs-token", tokenInput.value));

  let spec;
  const resolve = (schema) => {
    if (schema && schema.$ref) return resolve(schema.$ref.split("/").slice(1).reduce((o, k) => o && o[k], spec));
    return schema || {};
  };
  // A small example value for a schema, to prefill request bodies.
  const example = (schema, depth = 0) => {
    const s = resolve(schema);
    if (s.example !== undefined) return s.example;
    if (depth > 4) return null;
    if (s.oneOf || s.anyOf) return example((s.oneOf || s.anyOf)[0], depth + 1);
    const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
    if (s.enum) return s.enum[0];
    if (type === "object" || s.properties) {
      const out = {};
      for (const [k, v] of Object.entries(s.properties || {})) out[k] = example(v, depth + 1);
      return out;
    }
    if (type === "array") return [example(s.items, depth + 1)];
    if (type === "integer" || type === "number") return 0;
    if (type === "boolean") return false;
    return type === "string" ? "" : null;
  };

  function operation(path, method, op) {
    const params = (op.parameters || []).map((p) => resolve(p));
    const inputs = {};
    const paramRows = params.map((p) => {
      const input = el("input", { placeholder: p.schema ? resolve(p.schema).type || "" : "", "aria-label": p.name });
      inputs[p.in + ":" + p.name] = input;
      return el("label", {}, el("span", {}, `${p.name}${p.required ? " *" : ""} (${p.in})`), input);
    });
    const bodySchema = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
    const bodyInput = bodySchema ? el("textarea", { "aria-label": "request body" }) : null;
    if (bodyInput) bodyInput.value = JSON.stringify(example(bodySchema.schema), null, 2);
    const result = el("div");
    const send = async () => {
      let url = path;
      const query = new URLSearchParams();
      for (const p of params) {
        const v = inputs[p.in + ":" + p.name].value;
        if (p.in === "path") url = url.replace(`{${p.name}}`, encodeURIComponent(v));
        else if (p.in === "query" && v !== "") query.append(p.name, v);
      }
      if ([...query].length) url += "?" + query;
      const headers = { Accept: "application/json" };
      if (tokenInput.value) headers.Authorization = "Bearer " + tokenInput.value;
      const init = { method: method.toUpperCase(), headers };
      if (bodyInput) { headers["Content-Type"] = "application/json"; init.body = bodyInput.value; }
      result.replaceChildren(el("p", {}, "Sending…"));
      const started = performance.now();
      try {
        const res = await fetch(url, init);
        const text = await res.text();
        let pretty = text;
        try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* not JSON */ }
        const ms = (performance.now() - started).toFixed(1);
        result.replaceChildren(
          el("p", {}, el("span", { class: "status " + (res.ok ? "ok" : "err") }, res.status + " " + res.statusText), ` in ${ms} ms · request id ${res.headers.get("x-request-id") || "–"}`),
          el("pre", {}, pretty || "(empty body)"));
      } catch (e) {
        result.replaceChildren(el("p", { class: "err" }, "Network error: " + e.message));
      }
    };
    const responses = el("table", {}, el("tr", {}, el("th", {}, "Status"), el("th", {}, "Meaning")),
      ...Object.entries(op.responses || {}).map(([code, r]) => el("tr", {}, el("td", { class: "path" }, code), el("td", {}, resolve(r).description || ""))));
    const body = el("div", { class: "body" },
      op.description ? el("p", {}, op.description) : "",
      paramRows.length ? el("h4", {}, "Parameters") : "", el("div", { class: "params" }, ...paramRows),
      bodyInput ? el("h4", {}, "Request body (JSON)") : "", bodyInput || "",
      el("h4", {}, "Responses"), responses,
      el("h4", {}, "Try it"), method === "get" && path === "/api/ws" ? el("p", {}, "WebSocket: connect with a WebSocket client.") : el("button", { type: "button", onclick: send }, "Send request"),
      result);
    return el("details", { class: "op", id: op.operationId || method + path },
      el("summary", {}, el("span", { class: "method m-" + method }, method), el("span", { class: "path" }, path), el("span", { class: "summary" }, op.summary || "")),
      body);
  }

  fetch("/api/openapi.json").then((r) => r.json()).then((doc) => {
    spec = doc;
    $("#intro").replaceChildren(el("strong", {}, `${doc.info.title} ${doc.info.version}`), el("br"), doc.info.description || "");
    document.title = doc.info.title + " reference";
    const byTag = new Map();
    for (const [path, item] of Object.entries(doc.paths || {})) {
      for (const method of ["get", "post", "put", "patch", "delete"]) {
        if (!item[method]) continue;
        const tag = (item[method].tags || ["other"])[0];
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag).push(operation(path, method, item[method]));
      }
    }
    const ops = $("#ops");
    for (const [tag, nodes] of byTag) {
      $("#toc").append(el("a", { href: "#tag-" + tag }, tag));
      ops.append(el("h2", { id: "tag-" + tag }, tag), ...nodes);
    }
  }).catch((e) => { $("#intro").textContent = "Could not load /api/openapi.json: " + e.message; });
})();
