def value_and_grad(x1, w1, x2, w2, b):
    # forward pass
    t1 = x1 * w1  # x1*w1
    t2 = x2 * w2  # x2*w2
    t3 = t1 + t2  # x1*w1 + x2*w2
    n = t3 + b  # x1*w1 + x2*w2 + b
    o = math.tanh(n)  # tanh(n)
    # an overflow that a later step hides is still an error: inf*0.0 is nan
    if t1*0.0 + t2*0.0 + t3*0.0 + n*0.0 != 0.0:
        raise OverflowError('a value overflowed')
    # backward pass: the chain rule, from the output back to the inputs
    grad_o = 1.0
    # o = tanh(n)
    grad_n = grad_o * (1 - o**2)  # tanh: d o/d n = 1 - o**2
    # n = t3 + b
    grad_t3 = grad_n  # add: d n/d t3 = 1
    grad_b = grad_n  # add: d n/d b = 1
    # t3 = t1 + t2
    grad_t1 = grad_t3  # add: d t3/d t1 = 1
    grad_t2 = grad_t3  # add: d t3/d t2 = 1
    # t2 = x2*w2
    grad_x2 = grad_t2 * w2  # mul: d t2/d x2 = w2
    grad_w2 = grad_t2 * x2  # mul: d t2/d w2 = x2
    # t1 = x1*w1
    grad_x1 = grad_t1 * w1  # mul: d t1/d x1 = w1
    grad_w1 = grad_t1 * x1  # mul: d t1/d w1 = x1
    return o, (grad_x1, grad_w1, grad_x2, grad_w2, grad_b)
