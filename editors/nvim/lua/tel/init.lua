-- TEL for Neovim 0.11+: the `tel lsp` client's extras (custom requests, the commands the
-- server's lenses name, Run / Store / History / Hash) and the `tel-store://` documents.
-- The debugger's commands are in tel.dap, the health check in tel.health.
local M = {}

---@class tel.Options
---@field server_path? string  the `tel` binary (default: `tel` on PATH)
---@field codebase? string     the codebase file (TEL_CODEBASE for the server, --codebase for the CLI)
---@field host? string         the host file for :TelRun and the debugger (feeds, balances, seed)
---@field inlay_hints? {hashes: boolean, letTypes: boolean}
---@field lens? {hashes: boolean, run: boolean, store: boolean}
---@field codelens? boolean    show code lenses (refreshed as you type)
---@field enable? boolean      setup() calls vim.lsp.enable('tel')
M.defaults = {
  server_path = nil,
  codebase = nil,
  host = nil,
  inlay_hints = { hashes = true, letTypes = true },
  lens = { hashes = true, run = true, store = true },
  codelens = true,
  enable = true,
}

---@type tel.Options
M.options = vim.deepcopy(M.defaults)

--- `tel/status` per client: `{quiescent, generation}` (docs/lsp.md).
M.status = {}

--- The outcome of the last :TelRun, `{ok, summary, lines}` (nil while it runs).
M.last_run = nil

local function expand(p)
  if not p or p == '' then
    return nil
  end
  return vim.fs.normalize(vim.fn.fnamemodify(vim.fn.expand(p), ':p'))
end
M.expand = expand

---@param opts? tel.Options
function M.setup(opts)
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  vim.lsp.config('tel', {
    settings = { tel = M.server_settings() },
    init_options = { tel = M.server_settings() },
  })
  require('tel.dap').setup()
  if M.options.enable then
    vim.lsp.enable('tel')
  end
end

--- The `tel` section the server reads (docs/lsp.md, "Settings").
function M.server_settings()
  return {
    inlayHints = vim.deepcopy(M.options.inlay_hints),
    lens = vim.deepcopy(M.options.lens),
  }
end

--- The binary, or nil and a message saying how to fix its absence.
---@return string?, string?
function M.binary()
  local configured = M.options.server_path or vim.g.tel_server_path
  if configured and configured ~= '' then
    local p = configured:find('/') and expand(configured) or vim.fn.exepath(configured)
    if p and p ~= '' and vim.fn.executable(p) == 1 then
      return p
    end
    return nil,
      ('tel: server_path is %q, but no executable is there. Fix it in require("tel").setup({ server_path = … }), or remove it to use `tel` from PATH.'):format(
        configured
      )
  end
  local p = vim.fn.exepath('tel')
  if p ~= '' then
    return p
  end
  return nil,
    'tel: the TEL toolchain (`tel`) is not on PATH. Install it (`cargo install --path crates/tel-cli` in the TEL repository), or point require("tel").setup({ server_path = … }) at the binary.'
end

--- Environment for every `tel` process: the codebase option as TEL_CODEBASE.
function M.env()
  local cb = expand(M.options.codebase)
  return cb and { TEL_CODEBASE = cb } or nil
end

function M.on_status(client_id, params)
  M.status[client_id] = params
end

function M.on_attach(client, bufnr)
  local group = vim.api.nvim_create_augroup('tel_buffer_' .. bufnr, { clear = true })
  if M.options.inlay_hints.hashes or M.options.inlay_hints.letTypes then
    vim.lsp.inlay_hint.enable(true, { bufnr = bufnr })
    -- Neovim refreshes hints only in visible buffers (on workspace/inlayHint/refresh): a
    -- buffer edited while hidden (a rename in another file) asks again when shown.
    vim.api.nvim_create_autocmd('BufWinEnter', {
      group = group,
      buffer = bufnr,
      callback = function()
        if vim.lsp.inlay_hint.is_enabled({ bufnr = bufnr }) then
          vim.lsp.inlay_hint.enable(true, { bufnr = bufnr })
        end
      end,
    })
  end
  if M.options.codelens and client:supports_method('textDocument/codeLens') then
    vim.lsp.codelens.refresh({ bufnr = bufnr })
    vim.api.nvim_create_autocmd({ 'BufEnter', 'InsertLeave', 'BufWritePost' }, {
      group = group,
      buffer = bufnr,
      callback = function()
        vim.lsp.codelens.refresh({ bufnr = bufnr })
      end,
    })
  end
end

--- The `tel` client of a buffer (else any running one).
---@return vim.lsp.Client?
function M.client(bufnr)
  local clients = vim.lsp.get_clients({ name = 'tel', bufnr = bufnr })
  if #clients == 0 then
    clients = vim.lsp.get_clients({ name = 'tel' })
  end
  return clients[1]
end

local REQUEST_LIMIT_MS = 30000 -- a bound for a server that hangs, not a pacing

--- A request to the server, waited for; returns the result or nil and the error.
function M.request(method, params, bufnr)
  local client = M.client(bufnr)
  if not client then
    return nil, 'tel: no `tel lsp` is running (open a .tel file; see :checkhealth tel)'
  end
  local resp, err = client:request_sync(method, params, REQUEST_LIMIT_MS, bufnr)
  if not resp then
    return nil, ('tel: %s: %s'):format(method, err or 'no answer')
  end
  if resp.err then
    return nil, ('tel: %s: %s'):format(method, resp.err.message or vim.inspect(resp.err))
  end
  return resp.result
end

--- `tel/hashOf` at the cursor of the current window (or at `pos`, 0-based {line, col-in-bytes}).
function M.hash_of(bufnr, pos)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local client = M.client(bufnr)
  if not client then
    return nil, 'tel: no `tel lsp` is attached to this buffer'
  end
  local params
  if pos then
    local line = vim.api.nvim_buf_get_lines(bufnr, pos[1], pos[1] + 1, false)[1] or ''
    params = {
      textDocument = { uri = vim.uri_from_bufnr(bufnr) },
      position = {
        line = pos[1],
        character = vim.str_utfindex(line, client.offset_encoding, pos[2], false),
      },
    }
  else
    params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  end
  return M.request('tel/hashOf', params, bufnr)
end

--- A scratch buffer named `tel://NAME` holding `lines` (made or refilled); returns it.
function M.scratch_buffer(name, lines, filetype)
  local bufname = 'tel://' .. name
  local buf = vim.fn.bufnr(bufname)
  if buf == -1 then
    buf = vim.api.nvim_create_buf(true, true)
    vim.api.nvim_buf_set_name(buf, bufname)
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].modified = false
  if filetype then
    vim.bo[buf].filetype = filetype
  end
  return buf
end

--- The same, shown in a split below (the cursor stays where it was); returns it.
function M.scratch(name, lines, filetype)
  local buf = M.scratch_buffer(name, lines, filetype)
  if vim.fn.bufwinid(buf) == -1 then
    -- Shown below, with the cursor left where it was.
    local win = vim.api.nvim_get_current_win()
    vim.cmd('botright sbuffer ' .. buf)
    vim.api.nvim_set_current_win(win)
  end
  return buf
end

local function notify(msg, level)
  vim.notify(msg, level or vim.log.levels.INFO, { title = 'tel' })
end
M.notify = notify

--- The file of buffer `bufnr`, written first if modified, for `command` (`:TelRun`…), which
--- works on files; nil, with a warning naming the command, for any other buffer.
---@return string?
function M.saved_file(bufnr, command)
  if vim.bo[bufnr].filetype ~= 'tel' or vim.bo[bufnr].buftype ~= '' then
    notify('tel: ' .. command .. ' needs a .tel file', vim.log.levels.WARN)
    return nil
  end
  if vim.bo[bufnr].modified then
    vim.cmd('silent write')
  end
  return vim.api.nvim_buf_get_name(bufnr)
end

--- Runs `tel ARGS` in `cwd`; calls on_done(code, stdout, stderr) on the main loop.
function M.run_tel(args, cwd, on_done)
  local bin, err = M.binary()
  if not bin then
    notify(err, vim.log.levels.ERROR)
    return
  end
  local cmd = { bin }
  vim.list_extend(cmd, args)
  vim.system(cmd, { cwd = cwd, env = M.env(), text = true }, function(r)
    vim.schedule(function()
      on_done(r.code, r.stdout or '', r.stderr or '', cmd)
    end)
  end)
end

local function project_root(file)
  return vim.fs.root(file, { 'tel.toml' }) or vim.fs.dirname(file)
end

--- Reads `tel run --json` (docs/cli.md): the value, or the runtime error with its stack,
--- after the Log effects.
function M.read_run(code, stdout, stderr)
  local ok, doc = pcall(vim.json.decode, stdout, { luanil = { object = true, array = true } })
  if not ok or type(doc) ~= 'table' then
    local msg = vim.trim(stderr) ~= '' and vim.trim(stderr) or ('tel run exited with status ' .. tostring(code))
    local first = vim.split(msg, '\n')[1]:gsub('^error:%s*', '')
    return { ok = false, summary = first, lines = vim.split(msg, '\n') }
  end
  local lines = {}
  for _, e in ipairs(doc.effects or {}) do
    local at = type(e.at_ms) == 'number' and e.at_ms or 0
    if e.effect == 'Log' and e.args then
      table.insert(lines, ('[log @%dms] %s'):format(at, tostring(e.args[1])))
    elseif e.effect then
      table.insert(lines, ('[%s @%dms] %s'):format(e.effect, at, vim.json.encode(e.args or {})))
    end
  end
  local run = doc.run_id and (' (run %s)'):format(doc.run_id) or ''
  if doc.error then
    local message = doc.error.message or 'runtime error'
    table.insert(lines, 'error: ' .. message .. run)
    for _, f in ipairs(doc.error.stack or {}) do
      local where = f.file and (' %s:%s:%s'):format(f.file, f.line or '?', f.column or '?') or ''
      local hash = f.hash and (' #' .. f.hash:sub(1, 8)) or ''
      table.insert(lines, ('  at %s%s%s'):format(f.name or '?', hash, where))
    end
    return { ok = false, summary = message, lines = lines }
  end
  local shown = doc.shown or vim.json.encode(doc.value)
  table.insert(lines, '= ' .. shown .. run)
  return { ok = true, summary = shown, lines = lines }
end

local function forwarded(command, arguments, bufnr)
  local client = M.client(bufnr)
  local provider = client and client.server_capabilities.executeCommandProvider
  if not provider or not vim.tbl_contains(provider.commands or {}, command) then
    return false
  end
  -- Straight to the server: exec_cmd would find our own vim.lsp.commands entry first.
  client:request('workspace/executeCommand', { command = command, arguments = arguments }, function(err)
    if err then
      notify(('tel: %s: %s'):format(command, err.message), vim.log.levels.ERROR)
    end
  end, bufnr)
  return true
end

--- :TelRun [ENTRY] [ARGS-JSON]: runs an entry point of the current file (the function under
--- the cursor, else `main`) and shows the value, the Log lines and any error with its stack.
---@param opts? {entry?: string, args?: string, program?: string, on_done?: fun(outcome: table)}
function M.run(opts)
  opts = opts or {}
  local bufnr = vim.api.nvim_get_current_buf()
  -- Forwarded only in the server's own shape ({uri, name}); :TelRun runs through `tel run`.
  if opts.uri and opts.name and forwarded('tel.run', { opts }, bufnr) then
    return
  end
  local program = opts.program or M.saved_file(bufnr, ':TelRun')
  if not program then
    return
  end
  local entry = opts.entry
  if not entry and not opts.program then
    local h = M.hash_of(bufnr)
    if type(h) == 'table' and (h.kind == 'fn' or h.kind == 'function') then
      entry = h.name
    end
  end
  local args = { 'run', program }
  if entry and not program:match('^#') then
    vim.list_extend(args, { '--entry', entry })
  end
  if opts.args and opts.args ~= '' then
    vim.list_extend(args, { '--args', opts.args })
  end
  local host = expand(M.options.host)
  if host then
    vim.list_extend(args, { '--host', host })
  end
  local cb = expand(M.options.codebase)
  if cb then
    vim.list_extend(args, { '--codebase', cb })
  end
  table.insert(args, '--json')
  M.last_run = nil
  local what = ('%s of %s'):format(entry or 'main', program:match('^#') and program or vim.fs.basename(program))
  local cwd = program:match('^#') and vim.fn.getcwd() or project_root(program)
  M.run_tel(args, cwd, function(code, stdout, stderr, cmd)
    local outcome = M.read_run(code, stdout, stderr)
    local lines = { '$ ' .. table.concat(cmd, ' '), '' }
    vim.list_extend(lines, outcome.lines)
    outcome.lines = lines
    M.last_run = outcome
    M.scratch('run', lines)
    notify(('tel: %s = %s'):format(what, outcome.summary), outcome.ok and vim.log.levels.INFO or vim.log.levels.ERROR)
    if opts.on_done then
      opts.on_done(outcome)
    end
  end)
end

--- Tells the server the codebase changed (Neovim does not watch files for it on Linux).
function M.codebase_changed(root, existed)
  local file = expand(M.options.codebase) or vim.fs.joinpath(root, '.tel', 'codebase.sqlite')
  for _, client in ipairs(vim.lsp.get_clients({ name = 'tel' })) do
    client:notify('workspace/didChangeWatchedFiles', {
      changes = { { uri = vim.uri_from_fname(file), type = existed and 2 or 1 } },
    })
  end
end

--- :TelStore: `tel store add` for the current file (its definitions and what they use).
---@param opts? {on_done?: fun(ok: boolean, lines: string[])}
function M.store(opts)
  opts = opts or {}
  local bufnr = vim.api.nvim_get_current_buf()
  -- :TelStore stores the whole file through `tel store add` and shows its report; the
  -- server's own lens and action ({uri, name, hash}) go to the server (see tel.storeAdd).
  local file = M.saved_file(bufnr, ':TelStore')
  if not file then
    return
  end
  local root = project_root(file)
  local existed = vim.uv.fs_stat(expand(M.options.codebase) or vim.fs.joinpath(root, '.tel', 'codebase.sqlite')) ~= nil
  local args = { 'store', 'add', file }
  local cb = expand(M.options.codebase)
  if cb then
    vim.list_extend(args, { '--codebase', cb })
  end
  M.run_tel(args, root, function(code, stdout, stderr)
    local lines = vim.split(vim.trim(stdout .. (stderr ~= '' and ('\n' .. stderr) or '')), '\n')
    M.scratch('store', lines)
    if code == 0 then
      M.codebase_changed(root, existed)
      notify('tel: ' .. (vim.split(stdout, '\n')[1] or 'stored'))
    else
      notify('tel: ' .. ((stderr:gsub('^error:%s*', '')):match('[^\n]*') or 'store add failed'), vim.log.levels.ERROR)
    end
    if opts.on_done then
      opts.on_done(code == 0, lines)
    end
  end)
end

local function short(h)
  return h and h ~= vim.NIL and ('#' .. h:sub(1, 8)) or ''
end

--- `tel store history`'s text form of `tel/history`'s answer.
function M.render_history(h)
  local lines = { ('// history of %s, newest first'):format(h.name) }
  for _, e in ipairs(h.events or {}) do
    local at = os.date('!%Y-%m-%d %H:%M:%SZ', e.at)
    local what
    if e.action == 'rename' then
      what = ('%s -> %s (%s)'):format(e.old_name ~= vim.NIL and e.old_name or '?', e.name, short(e.hash))
    elseif e.action == 'update' then
      what = ('%s %s -> %s'):format(e.name, short(e.old_hash), short(e.hash))
    else
      what = ('%s %s'):format(e.name, short(e.hash))
    end
    local reason = (e.reason and e.reason ~= vim.NIL) and ('  [' .. e.reason .. ']') or ''
    table.insert(lines, ('%s  %-6s  %s%s'):format(at, e.action, what, reason))
  end
  return lines
end

--- :TelHistory [NAME]: the name's history in the codebase (default: the definition under the cursor).
function M.history(name)
  local bufnr = vim.api.nvim_get_current_buf()
  if forwarded('tel.showHistory', { name }, bufnr) then
    return
  end
  if not name or name == '' then
    local h, err = M.hash_of(bufnr)
    if type(h) ~= 'table' then
      notify(err or 'tel: no definition under the cursor; give a name: :TelHistory module::name', vim.log.levels.WARN)
      return
    end
    name = h.name
  end
  local h, err = M.request('tel/history', { name = name }, bufnr)
  if not h then
    notify(err, vim.log.levels.ERROR)
    return
  end
  return M.scratch('history', M.render_history(h))
end

--- :TelHash: the hash of the definition under the cursor, echoed and put in the `"` register.
function M.hash()
  local h, err = M.hash_of(0)
  if type(h) ~= 'table' then
    notify(err or 'tel: no definition under the cursor', vim.log.levels.WARN)
    return
  end
  vim.fn.setreg('"', '#' .. h.hash)
  local stored = (h.status == 'changed' and h.storedHash and h.storedHash ~= vim.NIL)
      and (' (the codebase has #%s)'):format(h.storedHash:sub(1, 8))
    or ''
  local msg = ('%s #%s %s%s'):format(h.name, h.hash, h.status, stored)
  vim.api.nvim_echo({ { msg } }, true, {})
  return h
end

--- BufReadCmd for `tel-store:///<hash>.tel`: the stored definition, read-only, from
--- `tel/viewDefinition` (go to definition on a `#hash` leads here).
function M.read_store_buffer(bufnr, name)
  -- Buffer names lose one slash of `///` on some paths; the server wants the canonical form.
  local uri = name:gsub('^tel%-store:/+', 'tel-store:///')
  vim.bo[bufnr].buftype = 'nofile'
  vim.bo[bufnr].swapfile = false
  vim.bo[bufnr].bufhidden = 'hide'
  local view, err = M.request('tel/viewDefinition', { uri = uri }, nil)
  local lines
  if type(view) == 'table' and view.text then
    lines = vim.split(view.text, '\n', { plain = true })
    if lines[#lines] == '' then
      table.remove(lines)
    end
  else
    lines = { '// ' .. (err or ('tel: no stored definition at ' .. uri)) }
  end
  vim.bo[bufnr].modifiable = true
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, lines)
  vim.bo[bufnr].modifiable = false
  vim.bo[bufnr].readonly = true
  vim.bo[bufnr].modified = false
  vim.bo[bufnr].filetype = 'tel'
end

--- The lens commands (docs/lsp.md) as client-side commands, run by vim.lsp.codelens.run().
function M.register_lsp_commands()
  vim.lsp.commands['tel.showReferences'] = function(command, ctx)
    local uri, position = command.arguments[1], command.arguments[2]
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    if not client then
      return
    end
    local params = { textDocument = { uri = uri }, position = position, context = { includeDeclaration = false } }
    client:request('textDocument/references', params, function(err, result)
      if err then
        notify('tel: references: ' .. err.message, vim.log.levels.ERROR)
        return
      end
      local items = vim.lsp.util.locations_to_items(result or {}, client.offset_encoding)
      vim.fn.setqflist({}, ' ', { title = 'tel: dependents', items = items })
      vim.cmd('botright copen')
    end, ctx.bufnr)
  end
  vim.lsp.commands['tel.debug'] = function(command)
    require('tel.dap').launch(command.arguments and command.arguments[1])
  end
  vim.lsp.commands['tel.run'] = function(command, ctx)
    local a = command.arguments and command.arguments[1] or {}
    local client = ctx and vim.lsp.get_client_by_id(ctx.client_id)
    local provider = client and client.server_capabilities.executeCommandProvider
    -- The server's Run lens ({uri, name}): the server runs it and keeps the trace.
    if a.uri and a.name and provider and vim.tbl_contains(provider.commands or {}, 'tel.run') then
      client:request('workspace/executeCommand', { command = 'tel.run', arguments = { a } }, function(err, res)
        if err then
          notify(('tel: run: %s'):format(err.message), vim.log.levels.ERROR)
          return
        end
        local lines = { res.headline }
        for _, l in ipairs(res.logs or {}) do
          table.insert(lines, 'log: ' .. l)
        end
        if res.stack_trace then
          table.insert(lines, res.stack_trace)
        end
        notify(table.concat(lines, '\n'), res.ok and vim.log.levels.INFO or vim.log.levels.ERROR)
      end, ctx.bufnr)
      return
    end
    M.run({ program = a.program, entry = a.entry, args = a.args and vim.json.encode(a.args) or nil })
  end
  vim.lsp.commands['tel.storeAdd'] = function(command, ctx)
    local a = command.arguments and command.arguments[1]
    local client = ctx and vim.lsp.get_client_by_id(ctx.client_id)
    local provider = client and client.server_capabilities.executeCommandProvider
    if type(a) == 'table' and a.uri and provider and vim.tbl_contains(provider.commands or {}, 'tel.storeAdd') then
      -- The server stores the one definition the lens names and says so itself.
      client:request('workspace/executeCommand', { command = 'tel.storeAdd', arguments = { a } }, function(err)
        if err then
          notify(('tel: store: %s'):format(err.message), vim.log.levels.ERROR)
        end
      end, ctx.bufnr)
      return
    end
    M.store()
  end
  vim.lsp.commands['tel.showHistory'] = function(command)
    M.history(command.arguments and command.arguments[1])
  end
end

return M
