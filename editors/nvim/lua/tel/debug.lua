-- The built-in debugger client: speaks the Debug Adapter Protocol to `tel dap` over stdio
-- when nvim-dap is not installed (nvim-dap is on no package registry; a user without it can
-- still step through a run and back). One session at a time. The protocol is the server's,
-- docs/debugging.md "The debug adapter": Content-Length framing, requests answered by
-- `request_seq`, a `stopped` event after every motion.
--
-- On each stop the client asks for the stack, the scopes and the variables of the top frame,
-- then moves the cursor of the source window to the stopped line (marked with a sign) and
-- shows the frames, the locals and the position in the `tel://debug` buffer.
local M = {}

local ns = vim.api.nvim_create_namespace('tel_debug')
local bp_ns = vim.api.nvim_create_namespace('tel_debug_breakpoints')
vim.api.nvim_set_hl(0, 'TelDebugLine', { link = 'Visual', default = true })
vim.api.nvim_set_hl(0, 'TelDebugSign', { link = 'DiagnosticWarn', default = true })
vim.api.nvim_set_hl(0, 'TelDebugPosition', { link = 'Comment', default = true })
vim.api.nvim_set_hl(0, 'TelDebugBreakpoint', { link = 'DiagnosticError', default = true })

--- The DAP single thread's id (`tel dap` runs one thread, id 1).
local THREAD = 1

local function notify(msg, level)
  require('tel').notify(msg, level)
end

--- The active session, or nil.
M.session = nil

--- What the last stop showed: `{stops, reason, description, position, end_, path, line,
--- column, frames = {{name, path, line, column}}, locals = {{name, value, type}}}`; and
--- `ended` (the exit code) once the run ended. Kept after the session ends, for tests and
--- for a look back.
M.state = nil

--- Line breakpoints by absolute path: `{ [path] = { [line] = true } }`. Kept across sessions.
M.breakpoints = {}

--- The last error the adapter answered (a failed launch, a refused motion), or nil.
M.last_error = nil

--- The stopped-line mark goes with the session.
local function clear_marks()
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    vim.api.nvim_buf_clear_namespace(b, ns, 0, -1)
  end
end

---@class tel.debug.Session
local Session = {}
Session.__index = Session

--- `Content-Length: N\r\n\r\n` then N bytes of JSON, as docs/debugging.md's transport.
local function frame(msg)
  local body = vim.json.encode(msg)
  return ('Content-Length: %d\r\n\r\n%s'):format(#body, body)
end

--- Complete messages at the front of `buf`, and what is left of it.
function M.unframe(buf)
  local out = {}
  while true do
    local head_end = buf:find('\r\n\r\n', 1, true)
    if not head_end then
      break
    end
    local len = tonumber(buf:sub(1, head_end - 1):match('[Cc]ontent%-[Ll]ength:%s*(%d+)'))
    if not len then
      -- Not a header the adapter writes: drop it rather than wait forever behind it.
      buf = buf:sub(head_end + 4)
    else
      local body_start = head_end + 4
      if #buf < body_start + len - 1 then
        break
      end
      local body = buf:sub(body_start, body_start + len - 1)
      buf = buf:sub(body_start + len)
      local ok, msg = pcall(vim.json.decode, body, { luanil = { object = true, array = true } })
      if ok and type(msg) == 'table' then
        table.insert(out, msg)
      end
    end
  end
  return out, buf
end

--- A request; `on_done(err, body)` on the main loop with the error message or the body.
function Session:request(command, arguments, on_done)
  if self.closed then
    if on_done then
      on_done('the debug session has ended', nil)
    end
    return
  end
  self.seq = self.seq + 1
  -- `{}` would be encoded as a JSON array; the adapter wants an object.
  if arguments == nil or (type(arguments) == 'table' and next(arguments) == nil) then
    arguments = vim.empty_dict()
  end
  self.pending[self.seq] = on_done or false
  local seq = self.seq
  local ok, err = pcall(self.proc.write, self.proc, frame({ seq = seq, type = 'request', command = command, arguments = arguments }))
  if not ok then
    -- The adapter is gone (its exit is being reported): the request fails, no error is thrown.
    self.pending[seq] = nil
    if on_done then
      on_done('`tel dap` is not running: ' .. tostring(err), nil)
    end
  end
end

function Session:dispatch(msg)
  if msg.type == 'response' then
    local cb = self.pending[msg.request_seq]
    self.pending[msg.request_seq] = nil
    if cb then
      if msg.success then
        cb(nil, msg.body or {})
      else
        cb(msg.message or (msg.body and msg.body.error and msg.body.error.format) or 'request failed', nil)
      end
    end
  elseif msg.type == 'event' then
    local h = self.on_event[msg.event]
    if h then
      h(self, msg.body or {})
    end
  end
end

--- Ends the session's UI state; the process is ended by disconnect or by closing stdin.
function Session:close(exit_note)
  if self.closed then
    return
  end
  self.closed = true
  for seq, cb in pairs(self.pending) do
    self.pending[seq] = nil
    if cb then
      cb('the debug session has ended', nil)
    end
  end
  pcall(function()
    self.proc:write(nil)
  end)
  clear_marks()
  if M.session == self then
    M.session = nil
  end
  if exit_note and M.state then
    M.state.ended = exit_note
    M.render()
  end
end

local function short_path(path)
  return path and vim.fn.fnamemodify(path, ':~:.') or '?'
end

--- The `tel://debug` lines of a state.
function M.render_lines(st)
  local lines = {}
  local where = st.position and ('position %d of %d'):format(st.position, st.end_ or st.position) or 'position ?'
  local reason = st.reason and (st.reason .. (st.description and (': ' .. st.description) or '')) or ''
  table.insert(lines, ('stopped (%s) at %s'):format(reason, where))
  if st.ended then
    table.insert(lines, 'session ended: ' .. st.ended)
  end
  table.insert(lines, '')
  table.insert(lines, 'Frames')
  for i, f in ipairs(st.frames or {}) do
    local place = f.path and ('  %s:%d'):format(short_path(f.path), f.line or 0) or ''
    table.insert(lines, ('  %s%d %s%s'):format(i == 1 and '▶' or ' ', i - 1, f.name, place))
  end
  table.insert(lines, '')
  table.insert(lines, 'Locals')
  if #(st.locals or {}) == 0 then
    table.insert(lines, '  (none in scope)')
  end
  for _, v in ipairs(st.locals or {}) do
    -- A moved-out local's type says so (`moved out on its last use`); its value is enough.
    local ty = (v.type and v.type ~= '' and v.value ~= '<moved>') and (': ' .. v.type) or ''
    table.insert(lines, ('  %s%s = %s'):format(v.name, ty, v.value))
  end
  if st.output and #st.output > 0 then
    table.insert(lines, '')
    table.insert(lines, 'Output')
    for _, o in ipairs(st.output) do
      table.insert(lines, '  ' .. o)
    end
  end
  return lines
end

--- Shows M.state in `tel://debug` (a split below, opened once).
function M.render()
  if not M.state then
    return
  end
  local tel = require('tel')
  local bufname = 'tel://debug'
  local shown = vim.fn.bufnr(bufname) ~= -1 and vim.fn.bufwinid(vim.fn.bufnr(bufname)) ~= -1
  local buf = tel.scratch('debug', M.render_lines(M.state))
  local win = vim.fn.bufwinid(buf)
  if win ~= -1 then
    -- As tall as what it shows, up to a little under half the screen.
    local lines = vim.api.nvim_buf_line_count(buf)
    vim.api.nvim_win_set_height(win, math.max(6, math.min(lines, math.floor(vim.o.lines * 0.45))))
  end
  if not shown and win ~= -1 then
    -- A panel, not a file: no line numbers or signs taking room from the values.
    vim.wo[win][0].number = false
    vim.wo[win][0].relativenumber = false
    vim.wo[win][0].signcolumn = 'no'
  end
  return buf
end

--- The window to show the source in: the one the session started from, else one showing
--- the file, else any window that is not a `tel://` scratch.
local function source_window(s, path)
  local bufnr = vim.fn.bufnr(path)
  if bufnr ~= -1 then
    local w = vim.fn.bufwinid(bufnr)
    if w ~= -1 then
      return w
    end
  end
  if s.source_win and vim.api.nvim_win_is_valid(s.source_win) then
    return s.source_win
  end
  for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    local name = vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(w))
    if not name:match('^tel://') and vim.api.nvim_win_get_config(w).relative == '' then
      return w
    end
  end
  return vim.api.nvim_get_current_win()
end

--- The cursor on the stopped line of the source window, the line marked.
local function show_place(s, st)
  clear_marks()
  local top
  for _, f in ipairs(st.frames) do
    if f.path then
      top = f
      break
    end
  end
  if not top or vim.fn.filereadable(top.path) == 0 then
    return
  end
  local win = source_window(s, top.path)
  local bufnr = vim.fn.bufnr(top.path)
  if bufnr == -1 or vim.api.nvim_win_get_buf(win) ~= bufnr then
    vim.api.nvim_win_call(win, function()
      vim.cmd.edit(vim.fn.fnameescape(top.path))
    end)
    bufnr = vim.api.nvim_win_get_buf(win)
  end
  local count = vim.api.nvim_buf_line_count(bufnr)
  local line = math.max(1, math.min(top.line or 1, count))
  local text = vim.api.nvim_buf_get_lines(bufnr, line - 1, line, false)[1] or ''
  local col = math.max(0, math.min((top.column or 1) - 1, #text))
  vim.api.nvim_win_set_cursor(win, { line, col })
  vim.api.nvim_win_call(win, function()
    vim.cmd('normal! zv')
  end)
  local where = st.position and ('position %d of %d'):format(st.position, st.end_ or st.position) or ''
  vim.api.nvim_buf_set_extmark(bufnr, ns, line - 1, 0, {
    sign_text = '▶',
    sign_hl_group = 'TelDebugSign',
    line_hl_group = 'TelDebugLine',
    virt_text = { { '◀ ' .. where, 'TelDebugPosition' } },
    virt_text_pos = 'eol',
    priority = 200,
  })
end

--- After a `stopped` event: the stack, the scopes and the variables of the top frame, then
--- the cursor, the sign and `tel://debug`. A stop that a newer one overtook is dropped.
function Session:on_stopped(body)
  self.stop_id = self.stop_id + 1
  local id = self.stop_id
  local st = {
    stops = (M.state and M.state.session == self and M.state.stops or 0) + 1,
    session = self,
    reason = body.reason,
    description = body.description,
    frames = {},
    locals = {},
    output = self.output,
  }
  local function current()
    return self.stop_id == id and not self.closed
  end
  local function fail(what, err)
    if current() then
      M.last_error = err
      notify(('tel: %s: %s'):format(what, err), vim.log.levels.ERROR)
    end
  end
  self:request('stackTrace', { threadId = THREAD }, function(err, trace)
    if not current() then
      return
    end
    if err then
      return fail('stackTrace', err)
    end
    for _, f in ipairs(trace.stackFrames or {}) do
      table.insert(st.frames, {
        id = f.id,
        name = f.name,
        path = f.source and f.source.path or nil,
        line = f.line,
        column = f.column,
      })
    end
    local top = st.frames[1]
    if not top then
      return self:show(st)
    end
    self:request('scopes', { frameId = top.id }, function(err2, scopes)
      if not current() then
        return
      end
      if err2 then
        return fail('scopes', err2)
      end
      local wanted, waiting = {}, 0
      for _, sc in ipairs(scopes.scopes or {}) do
        if sc.name == 'Locals' or sc.name == 'Run' then
          wanted[sc.name] = sc.variablesReference
          waiting = waiting + 1
        end
      end
      if waiting == 0 then
        return self:show(st)
      end
      for name, ref in pairs(wanted) do
        self:request('variables', { variablesReference = ref }, function(err3, vars)
          if not current() then
            return
          end
          if err3 then
            return fail('variables', err3)
          end
          for _, v in ipairs(vars.variables or {}) do
            if name == 'Locals' then
              table.insert(st.locals, { name = v.name, value = v.value, type = v.type })
            elseif v.name == 'position' then
              st.position = tonumber(v.value)
            elseif v.name == 'end' then
              st.end_ = tonumber(v.value)
            end
          end
          waiting = waiting - 1
          if waiting == 0 then
            self:show(st)
          end
        end)
      end
    end)
  end)
end

function Session:show(st)
  local top = st.frames[1]
  if top then
    st.path, st.line, st.column = top.path, top.line, top.column
  end
  M.state = st
  show_place(self, st)
  M.render()
end

Session.on_event = {
  initialized = function(s)
    -- Configuration: the breakpoints kept so far, then the run starts.
    local files = vim.tbl_keys(M.breakpoints)
    local left = #files
    local function done()
      s:request('configurationDone', {}, function(err)
        if err then
          M.last_error = err
          notify('tel: configurationDone: ' .. err, vim.log.levels.ERROR)
        end
      end)
    end
    if left == 0 then
      return done()
    end
    for _, path in ipairs(files) do
      M.send_breakpoints(s, path, function()
        left = left - 1
        if left == 0 then
          done()
        end
      end)
    end
  end,
  stopped = function(s, body)
    s:on_stopped(body)
  end,
  output = function(s, body)
    if body.category == 'stdout' or body.category == 'stderr' then
      for _, l in ipairs(vim.split(vim.trim(body.output or ''), '\n')) do
        table.insert(s.output, l)
      end
    elseif body.category == 'console' and body.output and vim.trim(body.output) ~= '' then
      notify('tel dap: ' .. vim.trim(body.output))
    end
  end,
  exited = function(s, body)
    s.exit_code = body.exitCode
  end,
  terminated = function(s)
    local code = s.exit_code
    s:request('disconnect', {}, function() end)
    s:close(code and ('the run ended, exit code ' .. code) or 'the run ended')
    notify('tel: the debug session ended' .. (code and (' (exit code ' .. code .. ')') or ''))
  end,
}

--- setBreakpoints for one file, from M.breakpoints; the adapter may move a line (a line
--- without code) or refuse it, and the signs follow its answer.
function M.send_breakpoints(s, path, on_done)
  local lines = vim.tbl_keys(M.breakpoints[path] or {})
  table.sort(lines)
  local bps = {}
  for _, l in ipairs(lines) do
    table.insert(bps, { line = l })
  end
  s:request('setBreakpoints', { source = { path = path }, breakpoints = bps }, function(err, body)
    if err then
      M.last_error = err
      notify('tel: setBreakpoints: ' .. err, vim.log.levels.ERROR)
    else
      for i, b in ipairs(body.breakpoints or {}) do
        if not b.verified then
          notify(('tel: breakpoint at %s:%d: %s'):format(short_path(path), lines[i], b.message or 'not verified'), vim.log.levels.WARN)
        elseif b.line and b.line ~= lines[i] then
          M.breakpoints[path][lines[i]] = nil
          M.breakpoints[path][b.line] = true
        end
      end
      M.place_breakpoint_signs(path)
    end
    if on_done then
      on_done()
    end
  end)
end

function M.place_breakpoint_signs(path)
  local bufnr = vim.fn.bufnr(path)
  if bufnr == -1 then
    return
  end
  vim.api.nvim_buf_clear_namespace(bufnr, bp_ns, 0, -1)
  local count = vim.api.nvim_buf_line_count(bufnr)
  for l in pairs(M.breakpoints[path] or {}) do
    if l <= count then
      -- Below the stopped-line sign (priority 200): stopped on a breakpoint shows ▶.
      vim.api.nvim_buf_set_extmark(bufnr, bp_ns, l - 1, 0, { sign_text = '●', sign_hl_group = 'TelDebugBreakpoint', priority = 100 })
    end
  end
end

--- :TelDebug [ENTRY]: starts a session on the current file (or `config.program`), stopped at
--- its entry. `config` takes the launch attributes of docs/debugging.md (the Debug lens
--- passes its own); the host and codebase options fill `host` and `codebase`.
function M.launch(config)
  local tel = require('tel')
  config = vim.deepcopy(config or {})
  local bufnr = vim.api.nvim_get_current_buf()
  config.program = config.program or tel.saved_file(bufnr, ':TelDebug')
  if not config.program then
    return
  end
  local bin, err = tel.binary()
  if not bin then
    M.last_error = err
    notify(err, vim.log.levels.ERROR)
    return
  end
  if M.session then
    M.stop()
  end
  config.type, config.name = nil, nil
  config.request = 'launch'
  config.entry = config.entry or (not config.program:match('^#') and 'main' or nil)
  if config.stopOnEntry == nil then
    config.stopOnEntry = true
  end
  config.host = config.host or tel.expand(tel.options.host)
  config.codebase = config.codebase or tel.expand(tel.options.codebase)
  local cwd = config.cwd
    or (config.program:match('^#') and vim.fn.getcwd())
    or vim.fs.root(config.program, { 'tel.toml' })
    or vim.fs.dirname(config.program)
  config.cwd = cwd

  local s = setmetatable({
    seq = 0,
    pending = {},
    stop_id = 0,
    output = {},
    stderr = {},
    source_win = vim.api.nvim_get_current_win(),
    config = config,
  }, Session)
  local pending_bytes = ''
  local ok, proc = pcall(vim.system, { bin, 'dap' }, {
    cwd = cwd,
    env = tel.env(),
    stdin = true,
    stdout = function(_, data)
      if data then
        vim.schedule(function()
          local msgs
          msgs, pending_bytes = M.unframe(pending_bytes .. data)
          for _, m in ipairs(msgs) do
            s:dispatch(m)
          end
        end)
      end
    end,
    stderr = function(_, data)
      if data then
        vim.schedule(function()
          table.insert(s.stderr, data)
        end)
      end
    end,
  }, function(r)
    vim.schedule(function()
      if not s.closed then
        local why = vim.trim(table.concat(s.stderr))
        notify(('tel: `tel dap` exited (status %d)%s'):format(r.code, why ~= '' and (': ' .. why) or ''), vim.log.levels.ERROR)
        s:close('`tel dap` exited (status ' .. r.code .. ')')
      end
    end)
  end)
  if not ok then
    M.last_error = tostring(proc)
    notify('tel: cannot start `tel dap`: ' .. tostring(proc), vim.log.levels.ERROR)
    return
  end
  s.proc = proc
  M.session = s
  M.last_error = nil
  s:request('initialize', {
    clientID = 'neovim-tel',
    clientName = 'Neovim (tel plugin)',
    adapterID = 'tel',
    linesStartAt1 = true,
    columnsStartAt1 = true,
    pathFormat = 'path',
    supportsVariableType = true,
  }, function(e)
    if e then
      M.last_error = e
      notify('tel: initialize: ' .. e, vim.log.levels.ERROR)
      return M.stop()
    end
    s:request('launch', config, function(e2)
      if e2 then
        -- The adapter says why (an unknown entry, a program with errors): shown as is.
        M.last_error = e2
        local diagnostics = table.concat(s.output, '\n')
        notify('tel: cannot debug: ' .. e2 .. (diagnostics ~= '' and ('\n' .. diagnostics) or ''), vim.log.levels.ERROR)
        return M.stop()
      end
    end)
  end)
  return s
end

local function active()
  if not M.session then
    notify('tel: no debug session (start one with :TelDebug)', vim.log.levels.ERROR)
  end
  return M.session
end

--- A motion (`next`, `stepBack`, …); the `stopped` event that follows updates the view.
function M.motion(command)
  local s = active()
  if not s then
    return
  end
  s:request(command, { threadId = THREAD }, function(err)
    if err then
      M.last_error = err
      notify(('tel: %s: %s'):format(command, err), vim.log.levels.ERROR)
    end
  end)
end

--- :TelBreak: toggles a line breakpoint at the cursor (sent at once in a session, else at
--- the next launch).
function M.toggle_breakpoint(path, line)
  path = path or vim.api.nvim_buf_get_name(0)
  line = line or vim.fn.line('.')
  if path == '' then
    notify('tel: :TelBreak needs a file', vim.log.levels.WARN)
    return
  end
  path = vim.fs.normalize(vim.fn.fnamemodify(path, ':p'))
  M.breakpoints[path] = M.breakpoints[path] or {}
  if M.breakpoints[path][line] then
    M.breakpoints[path][line] = nil
  else
    M.breakpoints[path][line] = true
  end
  M.place_breakpoint_signs(path)
  if M.session then
    M.send_breakpoints(M.session, path)
  end
  if next(M.breakpoints[path]) == nil then
    M.breakpoints[path] = nil
  end
end

--- :TelStop: disconnect (the adapter ends with the session).
function M.stop()
  local s = M.session
  if not s then
    return
  end
  M.session = nil
  clear_marks()
  s:request('disconnect', { terminateDebuggee = true }, function()
    s:close()
  end)
  -- A hung adapter must not keep the session: the UI forgets it now, the process ends
  -- when its stdin closes.
  vim.defer_fn(function()
    s:close()
  end, 2000)
end

--- A request on the active session (tel.dap's custom requests when nvim-dap is absent).
function M.request(method, params, on_result)
  local s = active()
  if not s then
    return
  end
  s:request(method, params, function(err, body)
    if err then
      M.last_error = err
      notify(('tel: %s: %s'):format(method, err), vim.log.levels.ERROR)
      return
    end
    if on_result then
      on_result(body)
    end
  end)
end

vim.api.nvim_create_autocmd('VimLeavePre', {
  group = vim.api.nvim_create_augroup('tel_debug', { clear = true }),
  callback = function()
    if M.session and M.session.proc then
      pcall(function()
        M.session.proc:kill(15)
      end)
    end
  end,
})

return M
