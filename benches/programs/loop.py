# Python has no tail calls: the same loop as a while loop.
def loop(n):
    i, acc = 0, 0
    while i < n:
        acc += i
        i += 1
    return acc

print(loop(10_000_000))
