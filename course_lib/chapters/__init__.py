"""Course material by chapter: exercise checkers and chapter helpers, outside the library.

Each chapter is a package ``course_lib.chapters.chNN_slug``. Its framework-free parts (cases,
NumPy references, checker flows, messages) are written once; its ``tf`` and ``torch`` modules
bind them to a backend and add the little tensor code a chapter needs. A notebook imports the
binding of its own framework::

    from course_lib import tf as cl
    from course_lib.chapters.ch01_dynamic_rnn import tf as ex     # ex.check_unroll(...)

Imports run one way: chapters -> backends (``course_lib.tf``, ``course_lib.torch``) -> common.
"""
