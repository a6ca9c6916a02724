"""Repository tooling, driven by the chapter manifest ``tools/chapters.json``; not part of ``course_lib``.

``manifest`` (load and validate the manifest), ``course_index`` (the index and README generator,
``python tools/course_index.py``), ``course_map``, ``links``, ``notebook_tree``; ``twins``
(how much the backends repeat). A learner's ``course_lib`` never imports this package.
"""
