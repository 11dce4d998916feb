<?php
// Recurpay's published PHP snippet (shared/seeds/004_…), unchanged but for this comment.

/**
 * Generates HMAC-SHA256 hash of a customer ID using a secret key
 *
 * @param string $customerId The customer ID to hash
 * @param string $secretKey  Your shared secret key
 * @return string Hex-encoded HMAC hash
 */
function hashCustomerId(string $customerId, string $secretKey): string {
    return hash_hmac('sha256', $customerId, $secretKey);
}

// Example usage
$customerId = "12345";
$secretKey = getenv('RECURPAY_SINGLE_SIGN_ON_SECRET');

$customerHash = hashCustomerId($customerId, $secretKey);
echo "Customer Hash: " . $customerHash;
