"""The demo (``anclax-fast demo``): the tutorial's tasks, a typed package generated from them
(:mod:`anclax_fast.demo.taskgen`) and an executor (:mod:`anclax_fast.demo.app`)."""
