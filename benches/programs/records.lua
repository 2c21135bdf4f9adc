local function map(xs, f)
    local out = {}
    for i = 1, #xs do out[i] = f(xs[i]) end
    return out
end

local function filter(xs, p)
    local out = {}
    for i = 1, #xs do
        if p(xs[i]) then out[#out + 1] = xs[i] end
    end
    return out
end

local function fold(xs, acc, f)
    for i = 1, #xs do acc = f(acc, xs[i]) end
    return acc
end

local trades = {}
for i = 0, 99999 do
    trades[#trades + 1] = { id = i, qty = i % 100, price = 1000 + i % 37 }
end
local priced = map(trades, function(t) return { id = t.id, value = t.qty * t.price } end)
local large = filter(priced, function(r) return r.value > 50000 end)
print(fold(large, 0, function(acc, r) return acc + r.value end))
