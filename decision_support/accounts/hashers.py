from django.contrib.auth.hashers import Argon2PasswordHasher


class OwaspArgon2PasswordHasher(Argon2PasswordHasher):
    """argon2id with the OWASP Password Storage Cheat Sheet's configuration: 19 MiB of memory,
    2 iterations, 1 lane. Memory-hard (GPU guessing pays in memory, not only time), and a check
    costs about 19 ms of a worker here, where Django's PBKDF2 (1,000,000 iterations) costs about
    225 ms: a class signing in at the start of a lesson queues behind every check."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
