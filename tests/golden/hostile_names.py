def value_and_grad(lambda_, out, math_, t1, grad_x, x):
    # forward pass
    t2 = lambda_ * out  # lambda*out
    t3 = math_ * t1  # math*t1
    t4 = t2 + t3  # lambda*out + math*t1
    t5 = grad_x * x  # grad_x*x
    out_2 = t4 + t5  # lambda*out + math*t1 + grad_x*x
    # backward pass: the chain rule, from the output back to the inputs
    grad_out_2 = 1.0
    # out_2 = t4 + t5
    grad_t4 = grad_out_2  # add: d out_2/d t4 = 1
    grad_t5 = grad_out_2  # add: d out_2/d t5 = 1
    # t5 = grad_x*x
    grad_grad_x = grad_t5 * x  # mul: d t5/d grad_x = x
    grad_x_2 = grad_t5 * grad_x  # mul: d t5/d x = grad_x
    # t4 = t2 + t3
    grad_t2 = grad_t4  # add: d t4/d t2 = 1
    grad_t3 = grad_t4  # add: d t4/d t3 = 1
    # t3 = math_*t1
    grad_math_ = grad_t3 * t1  # mul: d t3/d math_ = t1
    grad_t1 = grad_t3 * math_  # mul: d t3/d t1 = math_
    # t2 = lambda_*out
    grad_lambda_ = grad_t2 * out  # mul: d t2/d lambda_ = out
    grad_out = grad_t2 * lambda_  # mul: d t2/d out = lambda_
    return out_2, (grad_lambda_, grad_out, grad_math_, grad_t1, grad_grad_x, grad_x_2)
