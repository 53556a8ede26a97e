def value_and_grad(x, y):
    # forward pass
    t1 = x**2  # x**2
    t2 = math.pow(x, y)  # x**y
    t3 = t1 + t2  # x**2 + x**y
    t4 = math.pow(2, x)  # 2**x
    out = t3 + t4  # x**2 + x**y + 2**x
    # backward pass: the chain rule, from the output back to the inputs
    grad_out = 1.0
    # out = t3 + t4
    grad_t3 = grad_out  # add: d out/d t3 = 1
    grad_t4 = grad_out  # add: d out/d t4 = 1
    # t4 = 2**x
    grad_x = grad_t4 * (t4*0.6931471805599453)  # pow: d t4/d x = t4*log(2)
    # t3 = t1 + t2
    grad_t1 = grad_t3  # add: d t3/d t1 = 1
    grad_t2 = grad_t3  # add: d t3/d t2 = 1
    # t2 = x**y
    grad_x += grad_t2 * (y*math.pow(x, y - 1))  # pow: d t2/d x = y*x**(y - 1)
    grad_y = grad_t2 * xlogy(t2, x)  # pow: d t2/d y = xlogy(t2, x)
    # t1 = x**2
    grad_x += grad_t1 * (2*x)  # pow: d t1/d x = 2*x
    return out, (grad_x, grad_y)
