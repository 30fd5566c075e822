# An AMQP 0-9-1 back end as the issue describes it (Debian's python3-pika): a durable quorum
# queue bound to amq.topic, manual acks. Each delivery is written to stdout as
# "<routing key> <base64 payload>" and flushed BEFORE the basic.ack, so nothing it acked is
# lost on our side. Reconnects (broker killed and restarted) until stdin closes.
# Usage: amqp-consumer.py <port> <queue> <binding key>
import base64
import sys
import threading
import time

import pika

port, queue, binding = int(sys.argv[1]), sys.argv[2], sys.argv[3]
stop = threading.Event()


def watch_stdin():
    sys.stdin.read()
    stop.set()


threading.Thread(target=watch_stdin, daemon=True).start()
ready = False
while not stop.is_set():
    try:
        conn = pika.BlockingConnection(pika.ConnectionParameters('127.0.0.1', port, heartbeat=5, blocked_connection_timeout=5, connection_attempts=1))
        ch = conn.channel()
        ch.queue_declare(queue, durable=True, arguments={'x-queue-type': 'quorum'})
        ch.queue_bind(queue, 'amq.topic', routing_key=binding)
        ch.basic_qos(prefetch_count=500)
        if not ready:
            ready = True
            sys.stdout.write('READY\n')
            sys.stdout.flush()
        while not stop.is_set():
            for method, _props, body in ch.consume(queue, inactivity_timeout=0.2):
                if method is None:
                    break
                sys.stdout.write(method.routing_key + ' ' + base64.b64encode(body).decode() + '\n')
                sys.stdout.flush()
                ch.basic_ack(method.delivery_tag)
        conn.close()
    except Exception as e:  # broker gone: try again
        sys.stderr.write('amqp: %r\n' % (e,))
        sys.stderr.flush()
        time.sleep(0.3)
