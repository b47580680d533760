/* The few STM32F446 registers this board uses, from the STM32F446 reference
 * manual (RM0390); the project's own header, no vendored ST/CMSIS sources. */
#ifndef MTSRNN_FW_STM32F446_H
#define MTSRNN_FW_STM32F446_H

#include "cortex_m.h"

/* Reset and clock control (RM0390 section 6.3). */
#define RCC_BASE            0x40023800u
#define RCC_AHB1ENR         MTS_REG32(RCC_BASE + 0x30u)
#define RCC_APB1ENR         MTS_REG32(RCC_BASE + 0x40u)
#define RCC_AHB1ENR_GPIOAEN (1u << 0)
#define RCC_APB1ENR_USART2EN (1u << 17)

/* Flash interface: latency and the ART accelerator (section 3.8). */
#define FLASH_ACR           MTS_REG32(0x40023C00u)
#define FLASH_ACR_PRFTEN    (1u << 8)
#define FLASH_ACR_ICEN      (1u << 9)
#define FLASH_ACR_DCEN      (1u << 10)

/* GPIO port A (section 7.4). */
#define GPIOA_BASE          0x40020000u
#define GPIOA_MODER         MTS_REG32(GPIOA_BASE + 0x00u)
#define GPIOA_OSPEEDR       MTS_REG32(GPIOA_BASE + 0x08u)
#define GPIOA_PUPDR         MTS_REG32(GPIOA_BASE + 0x0Cu)
#define GPIOA_AFRL          MTS_REG32(GPIOA_BASE + 0x20u)
#define GPIO_MODE_AF        2u

/* USART2 (section 25.6; the registers: cortex-m/stm32_usart.c). */
#define USART2_BASE         0x40004400u
#define USART2_IRQn         38u

#endif /* MTSRNN_FW_STM32F446_H */
