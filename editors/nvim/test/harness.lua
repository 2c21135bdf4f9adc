-- What the headless tests share: TAP-like `ok - NAME` lines, assertions, and waits for a
-- condition (vim.wait) with a generous bound for a hung process. Loaded with dofile by the
-- test files (editors/test.sh runs each in its own headless Neovim).
local H = {}

H.LIMIT = 120000

local passed, failed = 0, 0

function H.out(s)
  io.stdout:write(s .. '\n')
  io.stdout:flush()
end

function H.test(name, f)
  local ok, err = xpcall(f, debug.traceback)
  if ok then
    passed = passed + 1
    H.out('ok - ' .. name)
  else
    failed = failed + 1
    H.out('not ok - ' .. name .. '\n' .. tostring(err))
  end
  return ok
end

function H.finish()
  H.out(('%d passed, %d failed'):format(passed, failed))
  vim.cmd(failed == 0 and 'qall!' or 'cquit! 1')
end

function H.wait_for(what, cond)
  if not vim.wait(H.LIMIT, cond, 20) then
    error('timed out waiting for ' .. what, 2)
  end
end

function H.eq(a, b, what)
  if a ~= b then
    error(('%s: expected %s, got %s'):format(what or 'value', vim.inspect(b), vim.inspect(a)), 2)
  end
end

function H.contains(hay, needle, what)
  if type(hay) ~= 'string' or not hay:find(needle, 1, true) then
    error(('%s: %s does not contain %s'):format(what or 'text', vim.inspect(hay), vim.inspect(needle)), 2)
  end
end

function H.buf_text(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
end

--- 1-based number of the first line of `buf` matching the Lua pattern.
function H.line_of(buf, pattern)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if line:find(pattern) then
      return i
    end
  end
  error('no line matches ' .. pattern, 2)
end

--- A copy of fixtures/projects/exchange in a fresh temporary folder, with the host file
--- main.tel's header assumes (the ETH/USD feed at 3000); returns its path.
function H.exchange_copy(repo)
  local tmp = vim.fn.tempname()
  vim.fn.mkdir(tmp, 'p')
  assert(vim.system({ 'cp', '-r', repo .. '/fixtures/projects/exchange', tmp }):wait().code == 0)
  local proj = tmp .. '/exchange'
  vim.fn.writefile({ '{"feeds": {"ETH/USD": 3000}}' }, proj .. '/host.json')
  return proj
end

return H
