"""The headless core of memoview. Never imports Qt; imports torch only lazily
inside the model backend."""
