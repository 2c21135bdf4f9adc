def main():
    trades = []
    for i in range(100_000):
        trades.append({"id": i, "qty": i % 100, "price": 1000 + i % 37})
    priced = list(map(lambda t: {"id": t["id"], "value": t["qty"] * t["price"]}, trades))
    large = list(filter(lambda r: r["value"] > 50_000, priced))
    total = 0
    for r in large:
        total += r["value"]
    return total

print(main())
