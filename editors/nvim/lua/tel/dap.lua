-- The `tel dap` debugger for nvim-dap (optional: without it the built-in client tel.debug
-- runs the sessions), and the commands on its custom requests: tel/timeline,
-- tel/jumpToPosition, tel/jumpToEffect, tel/compareStates, tel/fork (sent to whichever
-- session is active).
local M = {}

local function notify(msg, level)
  vim.notify(msg, level or vim.log.levels.INFO, { title = 'tel' })
end

function M.available()
  return (pcall(require, 'dap'))
end

--- Registers the adapter and a default configuration with nvim-dap, when it is installed.
--- A configuration the user already has for `tel` is kept.
function M.setup()
  local ok, dap = pcall(require, 'dap')
  if not ok then
    return false
  end
  local tel = require('tel')
  dap.adapters.tel = dap.adapters.tel
    or function(callback, config)
      local bin, err = tel.binary()
      if not bin then
        notify(err, vim.log.levels.ERROR)
        return
      end
      callback({
        type = 'executable',
        command = bin,
        args = { 'dap' },
        options = { env = tel.env(), cwd = config.cwd },
      })
    end
  dap.configurations.tel = dap.configurations.tel
    or {
      {
        type = 'tel',
        request = 'launch',
        name = 'Debug main of this file',
        program = '${file}',
        entry = 'main',
        stopOnEntry = true,
        host = function()
          local h = require('tel').options.host
          return h and vim.fn.fnamemodify(vim.fn.expand(h), ':p') or nil
        end,
      },
    }
  return true
end

--- Starts a debug session (the Debug lens passes its launch configuration).
function M.launch(config)
  if not M.setup() then
    return require('tel.debug').launch(config)
  end
  config = vim.deepcopy(config or {})
  config.type = 'tel'
  config.request = config.request or 'launch'
  config.name = config.name or 'Debug'
  config.program = config.program or vim.api.nvim_buf_get_name(0)
  local host = require('tel').options.host
  if host and not config.host then
    config.host = vim.fn.fnamemodify(vim.fn.expand(host), ':p')
  end
  require('dap').run(config)
end

local function nvim_dap_session()
  local ok, dap = pcall(require, 'dap')
  if not ok then
    return nil
  end
  local s = dap.session()
  if not s or (s.config and s.config.type ~= 'tel') then
    return nil
  end
  return s
end

--- A custom request to the active session (nvim-dap's, else the built-in client's);
--- `on_result(result)` on success.
function M.request(method, params, on_result)
  local s = nvim_dap_session()
  if not s then
    local builtin = require('tel.debug')
    if builtin.session then
      return builtin.request(method, params, on_result)
    end
    notify('tel: no `tel` debug session is active (start one with :TelDebug)', vim.log.levels.ERROR)
    return
  end
  s:request(method, params, function(e, result)
    if e then
      notify(('tel: %s: %s'):format(method, e.message or vim.inspect(e)), vim.log.levels.ERROR)
      return
    end
    if on_result then
      on_result(result)
    end
  end)
end

--- The entries of a `tel/timeline` answer, in position order, each with its nesting depth
--- and, for effects, which occurrence of that effect it is (docs/editors.md, "Timeline").
function M.flatten(answer)
  local list = answer
  if type(answer) == 'table' and not vim.islist(answer) then
    list = answer.entries or answer.items or answer.events or {}
  end
  local entries = {}
  for _, e in ipairs(list or {}) do
    local pos = e.position or e.step or e.pos
    if type(pos) == 'number' then
      local kind = tostring(e.kind or e.type or ''):lower()
      kind = kind:find('return') and 'return' or kind:find('call') and 'call' or kind:find('effect') and 'effect' or kind
      table.insert(entries, vim.tbl_extend('force', e, { position = pos, kind = kind }))
    end
  end
  table.sort(entries, function(a, b)
    return a.position < b.position
  end)
  local out, depth, seen = {}, 0, {}
  for _, e in ipairs(entries) do
    if type(e.depth) == 'number' then
      depth = e.depth
    end
    if e.kind == 'return' then
      depth = math.max(depth - 1, 0)
    else
      e.level = depth
      if e.kind == 'effect' then
        seen[e.name] = (seen[e.name] or 0) + 1
        e.occurrence = e.occurrence or seen[e.name]
      end
      table.insert(out, e)
      if e.kind == 'call' then
        depth = depth + 1
      end
    end
  end
  return out
end

local function line_of(e)
  local indent = string.rep('  ', e.level or 0)
  local args = ''
  if e.args and e.args ~= vim.NIL then
    local parts = {}
    for _, a in ipairs(e.args) do
      table.insert(parts, vim.json.encode(a))
    end
    args = '(' .. table.concat(parts, ', ') .. ')'
  end
  local tag = e.kind == 'effect' and ('#%d '):format(e.occurrence or 0) or ''
  local hash = (e.hash and e.hash ~= vim.NIL) and (' #' .. tostring(e.hash):sub(1, 8)) or ''
  return ('%6d  %s%s%s%s%s'):format(e.position, indent, tag, e.name or e.kind, args, hash)
end

--- :TelTimeline: the session's calls and effects in a scratch buffer (<CR> jumps the
--- session to that position) and in the quickfix list (where entries have a place).
function M.timeline()
  M.request('tel/timeline', {}, function(answer)
    local entries = M.flatten(answer)
    local lines, items = {}, {}
    for _, e in ipairs(entries) do
      table.insert(lines, line_of(e))
      local path = e.source and e.source.path or e.path
      if path and e.line then
        table.insert(items, { filename = path, lnum = e.line, col = e.column or 1, text = vim.trim(line_of(e)) })
      end
    end
    local buf = require('tel').scratch('timeline', #lines > 0 and lines or { '(no calls or effects yet)' })
    vim.b[buf].tel_timeline = entries
    vim.keymap.set('n', '<CR>', function()
      local e = vim.b[buf].tel_timeline[vim.fn.line('.')]
      if e then
        M.jump_to_position(e.position)
      end
    end, { buffer = buf, desc = 'Jump the debug session here' })
    vim.fn.setqflist({}, ' ', { title = 'tel: timeline', items = items })
  end)
end

function M.jump_to_position(position)
  if not position then
    notify('tel: a position is a whole number (a step index)', vim.log.levels.ERROR)
    return
  end
  M.request('tel/jumpToPosition', { position = position })
end

function M.jump_to_effect(effect, occurrence)
  M.request('tel/jumpToEffect', { effect = effect, occurrence = occurrence })
end

--- The two sides of a `tel/compareStates` answer, one changed value per line, aligned.
function M.diff_sides(answer, from, to)
  local changes = {}
  local function take(list, group)
    for _, c in ipairs(list or {}) do
      local name = c.path or c.name
      if name then
        local kind = c.kind or group
        local frame = c.frame and (c.frame .. '.') or ''
        local key = (kind and (kind .. ' ') or '') .. frame .. name
        table.insert(changes, { key = key, old = c.old or c.before, new = c.new or c.after })
      end
    end
  end
  answer = type(answer) == 'table' and answer or {}
  take(answer.changes)
  take(answer.locals, 'local')
  take(answer.balances, 'balance')
  table.sort(changes, function(a, b)
    return a.key < b.key
  end)
  local function show(v)
    if v == nil or v == vim.NIL then
      return '(absent)'
    end
    return type(v) == 'string' and v or vim.json.encode(v)
  end
  if #changes == 0 then
    local same = { ('nothing changed between positions %s and %s'):format(from, to) }
    return same, same
  end
  local left, right = { '// state at position ' .. from }, { '// state at position ' .. to }
  for _, c in ipairs(changes) do
    table.insert(left, c.key .. ' = ' .. show(c.old))
    table.insert(right, c.key .. ' = ' .. show(c.new))
  end
  return left, right
end

--- :TelCompare FROM TO: what changed between two positions, as a diff of two scratch buffers.
function M.compare(from, to)
  M.request('tel/compareStates', { from = from, to = to }, function(answer)
    local left, right = M.diff_sides(answer, from, to)
    local tel = require('tel')
    local lb = tel.scratch_buffer(('state@%d'):format(from), left)
    local rb = tel.scratch_buffer(('state@%d'):format(to), right)
    vim.cmd('tab sbuffer ' .. lb)
    vim.cmd('diffthis')
    vim.cmd('vertical rightbelow sbuffer ' .. rb)
    vim.cmd('diffthis')
    return lb, rb
  end)
end

--- :TelFork POSITION OVERRIDE-JSON: continue live from a past position with a different
--- effect answer; the original run stays as it was.
function M.fork(position, override_json)
  local ok, override = pcall(vim.json.decode, override_json)
  if not ok then
    notify('tel: the override is not JSON: ' .. tostring(override), vim.log.levels.ERROR)
    return
  end
  M.request('tel/fork', { position = position, override = override }, function(result)
    notify('tel: forked from ' .. position .. ': ' .. vim.json.encode(result or vim.NIL))
  end)
end

return M
