"""Soak check of `make dev`: the whole stack under a steady trickle of photo uploads.

    make soak                                   (SOAK_SECONDS=300 by default)
    .venv/bin/python -m bench.soak --seconds 60 [--rate 2] [--fresh] [--private-clone]

1. Starts `make dev` in a session of its own (output in bench/soak-dev.log) and
   times it until GET /readyz answers 200 with every check ok: a "first start"
   when .dev/ is missing or empty (--fresh runs `make clean` first), else a "restart".
   With --private-clone, all of this runs in a fresh clone of HEAD in a 0700 directory,
   as root's /root/app would be, and `make clean` there must leave nothing behind.
2. Gets API keys from `flask --app wsgi seed-demo`.
3. For --seconds, creates --rate photos a second, uploads a small JPEG to each
   one's presigned POST and finalizes it, over every demo user's key; some photos
   carry EXIF GPS (in the shapes Android, iOS and plain clients send) and a
   capture time. Each finalized photo is read back until it is processed, its
   coordinates and capture time are checked and its download must return the
   bytes uploaded.
4. Every --check-interval seconds: fails at once if a process honcho runs stopped.
5. Waits at most --drain-seconds for every photo to be processed (and its
   media_status, where the API has one, to be "processed").
6. Stops the stack as Ctrl-C in its terminal would (SIGINT to its process group):
   every process of the stack must be gone within 10 s, every process honcho ran
   must stop with rc=0, and the log must hold no ERROR line or Traceback. A weed
   that had to be killed (its shutdown cut short in .dev/s3/weed.log) is a warning.
7. Prints a summary; the last line is key=value pairs. Exit code 0 only if every
   check passed.

Needs the ports of `make dev` free (5000, 5433, 6380, 8333, 5555); talks to
127.0.0.1 only. Settings in the environment (DATABASE_URL, REDIS_URL, S3_*, ...)
are not passed on: the soak runs the default stack.

The steps, one module each: stack.py starts `make dev` and follows its log,
photos.py and client.py make and send the photos and read them back, traffic.py
paces them, watch.py follows the stack's processes and stops it, logs.py reads the
logs afterwards, summary.py prints the result; __main__.py runs them in turn.
"""
