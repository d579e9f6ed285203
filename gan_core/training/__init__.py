"""Training: what the train stage needs, and nothing the evaluation needs.

``losses`` (objectives), ``regularizers`` (penalties, clipping), ``generator_objectives``,
``optimizers``: registered pieces a variant names; ``loop``: the one generic training loop
(one model, or a seed group of stacked copies); ``streams``: each seed's random streams;
``variants``: a variant + a dataset setup -> networks and a training configuration;
``checkpoint``: networks' weights with what is needed to rebuild them.
"""
