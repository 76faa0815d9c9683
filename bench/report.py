"""What `make bench` prints: each server's figures, the ratios, then the rest.

The last line is machine-readable: key=value pairs separated by spaces.
"""

LABELS = {"floor": "floor    (bench/floor_app.py)", "required": "required (bench/required_app.py)",
          "create": "create   (POST /light/photos/)",
          "create_unlogged": "create without request ids and line (bench/unlogged_app.py)",
          "create_json": "create, LOG_FORMAT=json",
          "required_list": "required_list (bench/required_list.py)", "list": "list (GET /light/photos/)"}


def averaged(rounds):
    """Mean rps, p50, p99 and CPU ms per request per part over a server's rounds."""
    figures = {k: sum(run[k] for run in rounds) / len(rounds) for k in ("rps", "p50", "p99")}
    figures["cpu_ms"] = {part: sum(run["cpu_ms"][part] for run in rounds) / len(rounds)
                         for part in rounds[0]["cpu_ms"]}
    return figures


def request_log_cost(figures):
    """What the request id and line cost a create, text and JSON, against the app without them."""
    required, unlogged = figures["required"], figures["create_unlogged"]
    parts = []
    for name in ("create", "create_json"):
        fig = figures[name]
        parts.append(f"{name}: create_to_required {fig['rps'] / required['rps']:.3f} "
                     f"(without {unlogged['rps'] / required['rps']:.3f}), web CPU per create "
                     f"{fig['cpu_ms']['web']:.3f} ms (without {unlogged['cpu_ms']['web']:.3f} ms, "
                     f"{100 * (fig['cpu_ms']['web'] / unlogged['cpu_ms']['web'] - 1):+.1f} %)")
    return "request log: " + "; ".join(parts)


def line(label, fig):
    cpu_ms = fig["cpu_ms"]
    return (f"{label}: {fig['rps']:.0f} req/s, p50 {fig['p50']:.1f} ms, p99 {fig['p99']:.1f} ms; "
            f"CPU per request {sum(cpu_ms.values()):.2f} ms = "
            + ", ".join(f"{part} {ms:.2f}" for part, ms in cpu_ms.items()))


def report(runs, pages, statements, listing, plans, web_rss, photos_per_s):
    figures = {name: averaged(rounds) for name, rounds in runs.items()}
    for name, fig in figures.items():
        print(line(LABELS[name], fig))
    floor, required, create = figures["floor"], figures["required"], figures["create"]
    errors = (sum(run["errors"] for rounds in runs.values() for run in rounds) + listing["errors"]
              + sum(run["errors"] for by_name in pages.values() for rounds in by_name.values()
                    for run in rounds))
    for name in ("required", "create"):  # every body is new: each request makes a photo
        made = sum(run["new_photos"] for run in runs[name])
        done = sum(run["requests"] for run in runs[name])
        if made < done:  # (requests still in flight when wrk stops may add a few)
            print(f"WARNING: {name}: {done} requests made {made} photos")
    web_cpu_ratio = create["cpu_ms"]["web"] / required["cpu_ms"]["web"]
    print(f"create/floor: {create['rps'] / floor['rps']:.3f} x throughput, "
          f"{create['p99'] / floor['p99']:.2f} x p99   (non-2xx responses: {errors})")
    print(f"required/floor: {required['rps'] / floor['rps']:.3f} x throughput (what the spec's work "
          f"costs); create/required: {create['rps'] / required['rps']:.3f} x (what our code costs), "
          f"web CPU {web_cpu_ratio:.2f} x")
    if "create_unlogged" in figures:
        print(request_log_cost(figures))
    print(f"SQL statements per create (all five references set): {len(statements)}")
    for statement in statements:
        print("   ", " ".join(statement.split())[:110])
    list_ratios = {}
    for size, by_name in pages.items():
        reference, ours = averaged(by_name["required_list"]), averaged(by_name["list"])
        list_ratios[size] = ours["rps"] / reference["rps"]
        print(f"page_size={size}, 10,000 photos, two links each (same JSON, checked):")
        print("   ", line(LABELS["required_list"], reference))
        print("   ", line(LABELS["list"], ours))
        print(f"    list/required_list: {list_ratios[size]:.3f} x throughput, web CPU "
              f"{ours['cpu_ms']['web'] / reference['cpu_ms']['web']:.2f} x")
    print(f"list (GET ?job=, 10,000 photos): {listing['rps']:.0f} req/s, p50 {listing['p50']:.1f} ms, "
          f"p99 {listing['p99']:.1f} ms")
    for query, plan in plans.items():
        print(f"list query plan (?{query}):\n    " + plan.replace("\n", "\n    "))
    print(f"web process RSS after the run: {web_rss:.0f} MB")
    print(f"pipeline: {photos_per_s:.0f} photos/s per worker process")
    print(f"create_rps={create['rps']:.1f} floor_rps={floor['rps']:.1f} "
          f"ratio={create['rps'] / floor['rps']:.3f} create_p50_ms={create['p50']:.2f} "
          f"create_p99_ms={create['p99']:.2f} floor_p50_ms={floor['p50']:.2f} "
          f"floor_p99_ms={floor['p99']:.2f} p99_ratio={create['p99'] / floor['p99']:.3f} "
          f"required_rps={required['rps']:.1f} required_ratio={required['rps'] / floor['rps']:.3f} "
          f"create_to_required={create['rps'] / required['rps']:.3f} "
          f"create_web_cpu_to_required={web_cpu_ratio:.3f} "
          f"sql_per_create={len(statements)} web_rss_mb={web_rss:.1f} "
          f"list_p50_ms={listing['p50']:.2f} list_p99_ms={listing['p99']:.2f} "
          f"pipeline_photos_per_s={photos_per_s:.1f} errors={errors} "
          + " ".join(f"list{size}_to_required={ratio:.3f}" for size, ratio in list_ratios.items())
          + f" list_to_required={min(list_ratios.values()):.3f}")
