-- A real client: headless Neovim 0.11 with editors/nvim on its runtimepath opens a copy of
-- fixtures/projects/exchange and checks what a user sees: the server attaches, hover and
-- inlay hints carry the hash, :TelStore stores, a rename keeps every hash and is recorded in
-- the codebase's history, :TelRun shows the value, tel-store:// buffers show stored code,
-- :checkhealth tel passes.
--
-- Run by editors/test.sh:
--   REPO=… TEL_BIN=… nvim --headless --clean --cmd 'set rtp^=REPO/editors/nvim' -c 'luafile …/headless.lua'
-- Every wait is for a condition (vim.wait), with a generous bound for a hung server.

local REPO = assert(os.getenv('REPO'), 'REPO is not set')
local TEL = assert(os.getenv('TEL_BIN'), 'TEL_BIN is not set')

local T = dofile(REPO .. '/editors/nvim/test/harness.lua')
local test, finish, wait_for, eq, contains, buf_text = T.test, T.finish, T.wait_for, T.eq, T.contains, T.buf_text

--- 0-based {line, byte column} of `word` on the first line matching `pattern`.
local function pos_of(buf, pattern, word)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if line:find(pattern) then
      local col = assert(line:find(word, 1, true), word)
      return { i - 1, col - 1 }
    end
  end
  error('no line matches ' .. pattern)
end

-- Messages the server shows (window/showMessage) and the plugin's notifications.
local messages = {}
vim.notify = function(msg)
  table.insert(messages, msg)
end

local proj = T.exchange_copy(REPO)

local tel = require('tel')
tel.setup({ server_path = TEL, host = proj .. '/host.json' })

vim.cmd.edit(proj .. '/fees.tel')
local fees = vim.api.nvim_get_current_buf()
local client

local function quiescent()
  local s = client and tel.status[client.id]
  return s and s.quiescent and s.generation or nil
end

test('*.tel is filetype tel', function()
  eq(vim.bo[fees].filetype, 'tel', 'filetype')
end)

local attached = test('tel lsp attaches and checks the project', function()
  wait_for('the tel client to attach', function()
    client = vim.lsp.get_clients({ bufnr = fees, name = 'tel' })[1]
    return client ~= nil and client.initialized
  end)
  eq(client.root_dir, vim.fs.normalize(vim.uv.fs_realpath(proj)), 'root_dir')
  wait_for('tel/status quiescent', function()
    return quiescent() ~= nil
  end)
end)
if not attached then
  finish()
  return
end

local P = pos_of(fees, '^pub fn taker_fee', 'taker_fee')
local H -- tel/hashOf at taker_fee, before anything changes

test('hover on a definition shows its full and short hash', function()
  local h = assert(tel.hash_of(fees, P))
  H = h
  eq(h.name, 'fees::taker_fee', 'name')
  eq(#h.hash, 52, 'hash length')
  local hover = assert(tel.request('textDocument/hover', {
    textDocument = { uri = vim.uri_from_bufnr(fees) },
    position = { line = P[1], character = P[2] },
  }, fees))
  local text = type(hover.contents) == 'table' and (hover.contents.value or vim.inspect(hover.contents)) or hover.contents
  contains(text, h.hash, 'hover')
  contains(text, h.short, 'hover')
end)

local function hint_labels(buf)
  local labels = {}
  for _, item in ipairs(vim.lsp.inlay_hint.get({ bufnr = buf })) do
    local label = item.inlay_hint.label
    if type(label) == 'table' then
      local parts = {}
      for _, p in ipairs(label) do
        table.insert(parts, p.value)
      end
      label = table.concat(parts)
    end
    table.insert(labels, { line = item.inlay_hint.position.line, label = label })
  end
  return labels
end

test('inlay hints are on and show the short hash after the signature', function()
  assert(vim.lsp.inlay_hint.is_enabled({ bufnr = fees }), 'inlay hints are not enabled')
  local found
  wait_for('an inlay hint with ' .. H.short, function()
    vim.cmd.redraw()
    for _, h in ipairs(hint_labels(fees)) do
      if h.line == P[1] and h.label:find(H.short, 1, true) then
        found = h
        return true
      end
    end
    return false
  end)
  -- The inferred type of `let f = bps(notional, 25);` too.
  local let_line = pos_of(fees, 'let f =', 'f')[1]
  local types = vim.tbl_filter(function(h)
    return h.line == let_line
  end, hint_labels(fees))
  assert(#types == 1 and types[1].label:find('Int'), 'no Int hint on the let: ' .. vim.inspect(types))
end)

test('code lenses show the hash and the dependents', function()
  wait_for('a code lens with ' .. H.short, function()
    for _, lens in ipairs(vim.lsp.codelens.get(fees)) do
      if lens.range.start.line == P[1] and lens.command and lens.command.title:find(H.short, 1, true) then
        return true
      end
    end
    return false
  end)
end)

test(':TelStore stores the file; the server sees the codebase', function()
  local done
  tel.store({
    on_done = function(ok, lines)
      done = { ok = ok, lines = lines }
    end,
  })
  wait_for('tel store add', function()
    return done ~= nil
  end)
  assert(done.ok, table.concat(done.lines, '\n'))
  contains(buf_text(vim.fn.bufnr('tel://store')), 'fees::taker_fee', 'tel://store')
  local h
  wait_for('taker_fee to be stored', function()
    h = tel.hash_of(fees, P)
    return type(h) == 'table' and h.status == 'stored'
  end)
  eq(h.hash, H.hash, 'hash after storing')
end)

test('rename keeps the hash and moves the codebase name', function()
  local before = quiescent()
  vim.api.nvim_set_current_buf(fees)
  vim.api.nvim_win_set_cursor(0, { P[1] + 1, P[2] })
  vim.lsp.buf.rename('taker_fee_bps')
  local main
  wait_for('the rename to edit fees.tel and main.tel', function()
    main = vim.fn.bufnr(proj .. '/main.tel')
    return buf_text(fees):find('pub fn taker_fee_bps', 1, true) ~= nil
      and main ~= -1
      and buf_text(main):find('fees::taker_fee_bps(qty * price)', 1, true) ~= nil
  end)
  wait_for('the edit to be checked', function()
    local g = quiescent()
    return g ~= nil and g > before
  end)
  local after, why = tel.hash_of(fees, P)
  assert(after, "hashOf after rename: " .. tostring(why))
  eq(after.name, 'fees::taker_fee_bps', 'name after rename')
  eq(after.hash, H.hash, 'hash after rename')
  eq(after.status, 'stored', 'status after rename')
  -- window/showMessage lands in the message history (nvim_echo), notifications in `messages`.
  local said = vim.api.nvim_exec2('messages', { output = true }).output .. '\n' .. table.concat(messages, '\n')
  contains(said, 'renamed taker_fee → taker_fee_bps', 'messages')
  contains(said, 'unchanged', 'messages')
  local history = assert(tel.history('fees::taker_fee_bps'))
  contains(buf_text(history), 'rename  fees::taker_fee -> fees::taker_fee_bps', 'history')
  contains(buf_text(history), 'bind    fees::taker_fee #' .. H.hash:sub(1, 8), 'history')
end)

test('inlay hints appear in a file the rename edited while it was hidden', function()
  vim.cmd.edit(proj .. '/main.tel')
  local main = vim.api.nvim_get_current_buf()
  local S = pos_of(main, '^fn submit', 'submit')
  local h = assert(tel.hash_of(main, S))
  wait_for('an inlay hint with ' .. h.short .. ' in main.tel', function()
    vim.cmd.redraw()
    for _, hint in ipairs(hint_labels(main)) do
      if hint.line == S[1] and hint.label:find(h.short, 1, true) then
        return true
      end
    end
    return false
  end)
end)

test(':TelHash echoes the hash and copies it', function()
  vim.api.nvim_set_current_buf(fees)
  vim.api.nvim_win_set_cursor(0, { P[1] + 1, P[2] })
  vim.cmd('TelHash')
  eq(vim.fn.getreg('"'), '#' .. H.hash, 'register')
end)

test(':TelRun runs main and shows the value and the log', function()
  vim.cmd('silent wall')
  vim.cmd.edit(proj .. '/main.tel')
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.cmd('TelRun')
  wait_for(':TelRun to finish', function()
    return tel.last_run ~= nil
  end)
  local run = tel.last_run
  assert(run.ok, table.concat(run.lines, '\n'))
  contains(run.summary, 'fills: 2', 'value')
  contains(run.summary, 'fees: 90', 'value')
  local shown = buf_text(vim.fn.bufnr('tel://run'))
  contains(shown, '[log @0ms] ana filled 4 at 3000', 'tel://run')
  contains(shown, '= ' .. run.summary, 'tel://run')
end)

test('tel-store:// buffers show stored definitions read-only', function()
  vim.cmd.edit('tel-store:///' .. H.hash .. '.tel')
  local buf = vim.api.nvim_get_current_buf()
  local text = buf_text(buf)
  contains(text, H.hash, 'stored view')
  contains(text, 'fn taker_fee', 'stored view')
  eq(vim.bo[buf].modifiable, false, 'modifiable')
  eq(vim.bo[buf].filetype, 'tel', 'filetype')
  eq(#vim.lsp.get_clients({ bufnr = buf }), 0, 'clients attached to the stored view')
  vim.cmd.edit('tel-store:///prelude.tel')
  contains(buf_text(vim.api.nvim_get_current_buf()), 'effect Log', 'prelude')
end)

test(':checkhealth tel passes', function()
  vim.cmd('checkhealth tel')
  local text = buf_text(vim.api.nvim_get_current_buf())
  contains(text, 'tel binary', 'health')
  contains(text, 'OK', 'health')
  contains(text, TEL, 'health')
  assert(not text:find('ERROR'), 'health reports an error:\n' .. text)
end)

finish()
