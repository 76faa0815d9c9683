"""What `make bench` prints: each server's figures, the ratios, then the rest.

The last line is machine-readable: key=value pairs separated by spaces.
"""

LABELS = {"floor": "floor    (bench/floor_app.py)", "required": "required (bench/required_app.py)",
          "create": "create   (POST /light/photos/)"}


def report(runs, statements, listing, plan, web_rss, photos_per_s):
    figures = {name: {k: sum(run[k] for run in rounds) / len(rounds) for k in ("rps", "p50", "p99")}
               for name, rounds in runs.items()}
    for name, rounds in runs.items():
        fig = figures[name]
        cpu_ms = {part: sum(run["cpu_ms"][part] for run in rounds) / len(rounds)
                  for part in rounds[0]["cpu_ms"]}
        print(f"{LABELS[name]}: {fig['rps']:.0f} req/s, p50 {fig['p50']:.1f} ms, p99 {fig['p99']:.1f} ms; "
              f"CPU per request {sum(cpu_ms.values()):.2f} ms = "
              + ", ".join(f"{part} {ms:.2f}" for part, ms in cpu_ms.items()))
    floor, required, create = figures["floor"], figures["required"], figures["create"]
    errors = sum(run["errors"] for rounds in runs.values() for run in rounds) + listing["errors"]
    for name in ("required", "create"):  # every body is new: each request makes a photo
        made = sum(run["new_photos"] for run in runs[name])
        done = sum(run["requests"] for run in runs[name])
        if made < done:  # (requests still in flight when wrk stops may add a few)
            print(f"WARNING: {name}: {done} requests made {made} photos")
    print(f"create/floor: {create['rps'] / floor['rps']:.3f} x throughput, "
          f"{create['p99'] / floor['p99']:.2f} x p99   (non-2xx responses: {errors})")
    print(f"required/floor: {required['rps'] / floor['rps']:.3f} x throughput (what the spec's work "
          f"costs); create/required: {create['rps'] / required['rps']:.3f} x (what our code costs)")
    print(f"SQL statements per create (all five references set): {len(statements)}")
    for statement in statements:
        print("   ", " ".join(statement.split())[:110])
    print(f"list (GET ?job=, 10,000 photos): {listing['rps']:.0f} req/s, p50 {listing['p50']:.1f} ms, "
          f"p99 {listing['p99']:.1f} ms")
    print("list query plan:\n    " + plan.replace("\n", "\n    "))
    print(f"web process RSS after the run: {web_rss:.0f} MB")
    print(f"pipeline: {photos_per_s:.0f} photos/s per worker process")
    print(f"create_rps={create['rps']:.1f} floor_rps={floor['rps']:.1f} "
          f"ratio={create['rps'] / floor['rps']:.3f} create_p50_ms={create['p50']:.2f} "
          f"create_p99_ms={create['p99']:.2f} floor_p50_ms={floor['p50']:.2f} "
          f"floor_p99_ms={floor['p99']:.2f} p99_ratio={create['p99'] / floor['p99']:.3f} "
          f"required_rps={required['rps']:.1f} required_ratio={required['rps'] / floor['rps']:.3f} "
          f"create_to_required={create['rps'] / required['rps']:.3f} "
          f"sql_per_create={len(statements)} web_rss_mb={web_rss:.1f} "
          f"list_p50_ms={listing['p50']:.2f} list_p99_ms={listing['p99']:.2f} "
          f"pipeline_photos_per_s={photos_per_s:.1f} errors={errors}")
