-- Lua's natural loop (a tail-recursive version runs slower in Lua).
local function loop(n)
    local i, acc = 0, 0
    while i < n do
        acc = acc + i
        i = i + 1
    end
    return acc
end

print(loop(10000000))
